package io.o3lsm.internal.db;

import io.o3lsm.DB;
import io.o3lsm.Options;
import java.nio.file.Path;

/** The embedded engine. Placeholder while the write path is built. */
public final class DBImpl {
    private DBImpl() {
    }

    public static DB open(Path dir, Options options) {
        throw new UnsupportedOperationException("not built yet");
    }
}
