package io.o3lsm;

/**
 * A backup of a primary DB ({@link DB#openReplica}): read-only, following the primary's log and the
 * tables it ships (docs/design/replication.md). Reads see {@link #appliedSequence()}: every write of
 * the primary up to that sequence and none after it. Writes, {@code flush} and {@code compactRange}
 * throw {@link ReadOnlyException}.
 */
public interface Replica extends DB {
    /** The primary's last sequence this replica shows: reads see exactly its writes up to here. */
    long appliedSequence();

    /** Whether it is connected to a primary and caught up. */
    boolean live();

    /**
     * Stops following the primary, raises the epoch past the old primary's (which backups then
     * refuse: it is fenced), closes this replica and opens its directory as a primary with
     * {@code options} (whose own replication settings apply: {@code replicationListen} lets other
     * backups follow it). Its log records past what its tables hold are replayed, as after a crash.
     * This replica is closed afterwards, whatever the outcome.
     *
     * @throws O3Exception naming the cause if the directory cannot be opened as a primary
     */
    DB promote(Options options);

    /**
     * Promotes the replica directory {@code dir} that no process has open (a stopped
     * {@code bin/o3 replica} daemon's): raises its epoch as {@link #promote} does and opens it as a
     * primary with {@code options}.
     *
     * @throws O3Exception naming the cause if {@code dir} holds no replica state, another process has
     *                     it open, or it cannot be opened as a primary
     */
    static DB promote(java.nio.file.Path dir, Options options) {
        io.o3lsm.internal.util.AgronaAccess.ensure();
        return io.o3lsm.internal.db.DBImpl.promoteDirectory(dir, options);
    }

    /**
     * As {@link #promote(java.nio.file.Path, Options)} for a replica of a DB with column families,
     * opening it with {@code families} as {@link DB#open(java.nio.file.Path, Options, java.util.List)}
     * does. (The form without them opens each family without functions.)
     */
    static DB promote(java.nio.file.Path dir, Options options, java.util.List<ColumnFamilyDescriptor> families) {
        io.o3lsm.internal.util.AgronaAccess.ensure();
        if (families == null) {
            throw new IllegalArgumentException("families must not be null");
        }
        return io.o3lsm.internal.db.DBImpl.promoteDirectory(dir, options, java.util.List.copyOf(families));
    }
}
