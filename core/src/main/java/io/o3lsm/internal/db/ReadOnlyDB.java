package io.o3lsm.internal.db;

/**
 * The {@link io.o3lsm.DB} a {@code DB.openReadOnly} returns: reads go to an engine recovered into
 * memory only ({@link Recovery#recoverReadOnly}), which holds no lock, writes no file and runs no
 * flush or compaction; every write is refused ({@link ReadOnlyFacade}). docs/operations/read-only.md.
 */
final class ReadOnlyDB extends ReadOnlyFacade {
    ReadOnlyDB(DBImpl db) {
        super(db);
    }

    @Override
    String why() {
        return "is open read-only (DB.openReadOnly; open it with DB.open to write)";
    }

    @Override
    public String toString() {
        return "ReadOnlyDB(" + e.dir + ")";
    }
}
