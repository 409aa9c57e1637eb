package io.o3lsm.dm.replication;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/** What the transport's tests share: a temporary directory, and primaries and backups closed after each test, newest first. */
abstract class ReplicationTestBase {
    @TempDir
    Path dir;
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    /** Closes {@code c} after the test. */
    <T extends AutoCloseable> T track(T c) {
        open.add(c);
        return c;
    }
}
