package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.o3lsm.DB;
import io.o3lsm.Options;
import io.o3lsm.format.Lookup;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A read without a snapshot pins its view first and reads the sequence after (ReadPath.pin): had it
 * read the sequence first, a flush and compaction completing in between would choose what to keep at
 * a newer sequence and drop the version the reader needs. This test replays a reader "preempted"
 * between pinning and looking up, through the same package-private steps get() takes.
 */
class PinnedReadSequenceTest {
    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldFindTheVersionLiveAtTheReadSequenceAfterCompaction() throws Exception {
        try (DB db = DB.open(dir, Options.defaults().shardCount(1))) {
            DBImpl impl = (DBImpl) db;
            db.put(b("k"), b("v1"));
            db.compactRange(null, null); // k@1 on disk

            // reader: pins its view and reads the sequence (ReadPath.pin), then is preempted
            ReadPath reads = impl.engine().reads;
            long[] seqOut = new long[1];
            SuperVersion sv = reads.pin(io.o3lsm.ReadOptions.defaults(), seqOut);
            long seq = seqOut[0];

            // meanwhile: overwrite, flush, compaction; the pinned version keeps k@1's file alive
            db.put(b("k"), b("v2"));
            db.compactRange(null, null);

            // reader resumes
            Lookup out;
            try {
                out = reads.lookup(sv, b("k"), seq, true, true, new Lookup());
            } finally {
                sv.unref();
            }
            // At sequence `seq` the key held v1 (it was never deleted): the read must see it.
            assertEquals(Lookup.FOUND, out.state, "key k live at seq " + seq + " not found");
            assertArrayEquals(b("v1"), out.value);
        }
    }
}
