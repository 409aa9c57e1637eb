package io.o3lsm;

/**
 * A column family of an open {@link DB}: a named key space with its own keys, iterators and
 * functions (merge operator, compaction filter, TTL), sharing the DB's WAL, MANIFEST, snapshots and
 * atomic {@link WriteBatch}es with every other family. Obtained from
 * {@link DB#createColumnFamily}, {@link DB#columnFamily(String)} or {@link DB#defaultColumnFamily()};
 * valid only with the DB that gave it, until that DB closes or the family is dropped (then every
 * call naming it throws {@link IllegalArgumentException}). See {@code docs/column-families.md}.
 *
 * <p>Immutable and thread-safe. Nothing to close: a handle holds no resources.
 */
public interface ColumnFamilyHandle {
    /** The family's name ({@value DB#DEFAULT_COLUMN_FAMILY} for the default family). */
    String name();

    /** The family's id: 0 for the default family; ids of dropped families are never reused. */
    int id();
}
