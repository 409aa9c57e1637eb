package io.o3lsm;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The options of one column family: the functions applied to its keys, how its tables are written
 * (no table holds two families' keys), and a write buffer bounding its unflushed bytes. Everything
 * else (block sizes, levels, memtable shards) is the DB's {@link Options}, shared by every family
 * (see {@code docs/column-families.md}, "What is per family").
 *
 * <table>
 * <caption>Settings</caption>
 * <tr><th>Setting</th><th>Default</th><th>Meaning</th></tr>
 * <tr><td>mergeOperator</td><td>none</td><td>combines the family's {@link DB#merge merge} operands; merges into a
 * family without one are refused</td></tr>
 * <tr><td>compactionFilter</td><td>none</td><td>keeps, removes or changes the family's values in compactions
 * (and flushes, with {@link Options#compactionFilterOnFlush})</td></tr>
 * <tr><td>ttl</td><td>none</td><td>values expire this long after they were written (stamped with
 * {@link Options#clock}); fixed when the family is created; not with a merge operator</td></tr>
 * <tr><td>compression</td><td>the DB's ({@link Options#compression})</td><td>block compression of the family's
 * tables</td></tr>
 * <tr><td>bloomBitsPerKey</td><td>the DB's ({@link Options#bloomBitsPerKey})</td><td>bloom filter bits per key of
 * the family's tables, 0 to 64 (0: none)</td></tr>
 * <tr><td>writeBufferSize</td><td>0 (none of its own)</td><td>bytes written to the family after which the memtable
 * shards holding its keys are sealed and flushed</td></tr>
 * </table>
 *
 * <p>Not thread-safe while being configured; a DB copies it when it opens or creates the family.
 */
public final class ColumnFamilyOptions {
    private MergeOperator mergeOperator;
    private CompactionFilter compactionFilter;
    private Duration ttl;
    private Compression compression;
    private int bloomBitsPerKey = -1;
    private long writeBufferSize;

    private ColumnFamilyOptions() {
    }

    public static ColumnFamilyOptions defaults() {
        return new ColumnFamilyOptions();
    }

    public ColumnFamilyOptions copy() {
        ColumnFamilyOptions c = new ColumnFamilyOptions();
        c.mergeOperator = mergeOperator;
        c.compactionFilter = compactionFilter;
        c.ttl = ttl;
        c.compression = compression;
        c.bloomBitsPerKey = bloomBitsPerKey;
        c.writeBufferSize = writeBufferSize;
        return c;
    }

    /** The family's merge operator (null: none). Its {@link MergeOperator#name()} must be valid. */
    public ColumnFamilyOptions mergeOperator(MergeOperator op) {
        this.mergeOperator = op;
        return this;
    }

    /** The family's compaction filter (null: none). Its {@link CompactionFilter#name()} must be valid. */
    public ColumnFamilyOptions compactionFilter(CompactionFilter f) {
        this.compactionFilter = f;
        return this;
    }

    /**
     * Time to live of the family's values (null: forever). At least 1 ms. A family's values are
     * stamped only if it was created with a TTL, so a family keeps having one or not for its life.
     */
    public ColumnFamilyOptions ttl(Duration ttl) {
        this.ttl = ttl;
        return this;
    }

    /** Compression of the family's tables (null: the DB's {@link Options#compression}). */
    public ColumnFamilyOptions compression(Compression c) {
        this.compression = c;
        return this;
    }

    /** Bloom filter bits per key of the family's tables, 0 to 64 (0: none; -1: the DB's, the default). */
    public ColumnFamilyOptions bloomBitsPerKey(int bits) {
        this.bloomBitsPerKey = bits;
        return this;
    }

    /**
     * The family's write buffer, in bytes (0, the default: none of its own, the DB's
     * {@link Options#writeBufferSize} bounds all families together). Once this many bytes of keys and
     * values have been written to the family since its memtable shards were last sealed for it, those
     * shards are sealed and flushed — with whatever other families' keys they hold, as memtable
     * shards are shared. At least 64 KiB.
     */
    public ColumnFamilyOptions writeBufferSize(long bytes) {
        this.writeBufferSize = bytes;
        return this;
    }

    /** The family's write buffer in bytes, 0 for none of its own. */
    public long writeBufferSize() {
        return writeBufferSize;
    }

    /** The family's compression, or null for the DB's. */
    public Compression compression() {
        return compression;
    }

    /** The family's bloom bits per key, or -1 for the DB's. */
    public int bloomBitsPerKey() {
        return bloomBitsPerKey;
    }

    public MergeOperator mergeOperator() {
        return mergeOperator;
    }

    public CompactionFilter compactionFilter() {
        return compactionFilter;
    }

    public Duration ttl() {
        return ttl;
    }

    /**
     * Checks the settings (as the DB does when it takes them) and returns this.
     *
     * @throws IllegalArgumentException naming the setting at fault
     */
    public ColumnFamilyOptions validate() {
        if (mergeOperator != null) {
            MergeOperators.checkName(mergeOperator.name(), "merge operator");
        }
        if (compactionFilter != null) {
            MergeOperators.checkName(compactionFilter.name(), "compaction filter");
            if (compactionFilter.name().startsWith(CompactionFilters.TTL + ":")) {
                throw new IllegalArgumentException("compactionFilter: a TTL filter is set with ttl(...), not as a "
                        + "compaction filter");
            }
        }
        if (writeBufferSize != 0 && writeBufferSize < 64 << 10) {
            throw new IllegalArgumentException("writeBufferSize must be 0 (none of its own) or at least 64 KiB, was "
                    + writeBufferSize);
        }
        if (bloomBitsPerKey < -1 || bloomBitsPerKey > 64) {
            throw new IllegalArgumentException("bloomBitsPerKey must be in [0, 64] (or -1 for the DB's), was "
                    + bloomBitsPerKey);
        }
        if (ttl != null) {
            if (ttl.isNegative() || ttl.isZero() || ttl.toMillis() < 1) {
                throw new IllegalArgumentException("ttl must be at least 1 ms, was " + ttl);
            }
            if (mergeOperator != null) {
                throw new IllegalArgumentException("ttl cannot be combined with a merge operator (operands carry no "
                        + "write time)");
            }
        }
        return this;
    }

    /** Throws {@link IllegalArgumentException} unless {@code name} is a valid family name. */
    static void checkName(String name) {
        if (name == null) {
            throw new IllegalArgumentException("column family name must not be null");
        }
        int n = name.getBytes(StandardCharsets.UTF_8).length;
        if (n == 0 || n > 200) {
            throw new IllegalArgumentException("column family name must be 1 to 200 bytes of UTF-8, was " + n
                    + " bytes");
        }
        for (int i = 0; i < name.length(); i++) {
            if (Character.isISOControl(name.charAt(i))) {
                throw new IllegalArgumentException("column family name must not hold control characters, was \""
                        + name.replaceAll("\\p{Cntrl}", "?") + "\"");
            }
        }
    }

    @Override
    public String toString() {
        return "ColumnFamilyOptions{mergeOperator=" + (mergeOperator == null ? "none" : mergeOperator.name())
                + ", compactionFilter=" + (compactionFilter == null ? "none" : compactionFilter.name()) + ", ttl="
                + ttl + ", compression=" + (compression == null ? "the DB's" : compression) + ", bloomBitsPerKey="
                + (bloomBitsPerKey < 0 ? "the DB's" : bloomBitsPerKey) + ", writeBufferSize="
                + (writeBufferSize == 0 ? "the DB's" : writeBufferSize) + "}";
    }
}
