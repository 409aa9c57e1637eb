package io.o3lsm.compaction;

import io.o3lsm.ForwardingFileSystem;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The real compactor daemon ({@link CompactorMain}) over shared storage whose {@code sync()} takes
 * {@code -DslowSyncMillis} (default 60 s) and announces itself on stderr ("slow sync PATH") first:
 * a test sees the compactor mid-job, with an output file created, and can kill or stop it there.
 */
public final class SlowStorageCompactor {
    private SlowStorageCompactor() {
    }

    public static void main(String[] args) {
        long delay = Long.getLong("slowSyncMillis", 60_000);
        FileSystem fs = new ForwardingFileSystem() {
            @Override
            protected WritableFile wrap(Path path, WritableFile file) {
                return new ForwardingWritableFile(file) {
                    @Override
                    public void sync() throws IOException {
                        System.err.println("slow sync " + path);
                        System.err.flush();
                        try {
                            Thread.sleep(delay);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        super.sync();
                    }
                };
            }
        };
        System.exit(CompactorMain.runDaemon(args, System.out, System.err, fs));
    }
}
