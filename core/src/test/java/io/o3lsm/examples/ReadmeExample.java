package io.o3lsm.examples;

// The README's embedding example, compiled and run by ReadmeExampleTest, which also checks that the
// README shows exactly the lines between the markers. Edit here, then copy into README.md.
// README:embedding begin
import static java.nio.charset.StandardCharsets.UTF_8;

import io.o3lsm.*;
import java.nio.ByteBuffer;
import java.nio.file.Path;

public class ReadmeExample {
    public static void main(String[] args) {
        Path dir = Path.of(args.length > 0 ? args[0] : "/var/lib/myservice/db");
        try (DB db = DB.open(dir, Options.defaults())) {
            db.put("user:42".getBytes(UTF_8), "Ada".getBytes(UTF_8));
            byte[] v = db.get("user:42".getBytes(UTF_8));               // null when absent
            db.deleteRange("tmp:".getBytes(UTF_8), "tmp;".getBytes(UTF_8)); // every key starting "tmp:"

            ReadOptions users = ReadOptions.defaults()
                    .lowerBound("user:".getBytes(UTF_8)).upperBound("user;".getBytes(UTF_8));
            try (Snapshot snap = db.snapshot();
                 DBIterator it = db.iterator(users.snapshot(snap))) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    ByteBuffer key = it.keyBuffer();                    // zero-copy views, valid until the next move
                    ByteBuffer value = it.valueBuffer();
                    System.out.println(UTF_8.decode(key) + " = " + UTF_8.decode(value));
                }
            }

            try (WriteBatch batch = new WriteBatch()) {                 // atomic, reusable
                batch.put("user:43".getBytes(UTF_8), "Grace".getBytes(UTF_8))
                        .delete("user:42".getBytes(UTF_8));
                db.write(batch, WriteOptions.defaults().sync(true));    // fsync the WAL before returning
            }
        }
    }
}
// README:embedding end
