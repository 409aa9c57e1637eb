package io.o3lsm;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The options of one column family: the functions applied to its keys. Everything else (write
 * buffers, compression, bloom filters, block sizes) is the DB's {@link Options} and shared by every
 * family in this version (see {@code docs/column-families.md}, "What is per family").
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
 * </table>
 *
 * <p>Not thread-safe while being configured; a DB copies it when it opens or creates the family.
 */
public final class ColumnFamilyOptions {
    private MergeOperator mergeOperator;
    private CompactionFilter compactionFilter;
    private Duration ttl;

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
                + ttl + "}";
    }
}
