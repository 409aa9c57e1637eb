package io.o3lsm.dm.protocol;

import io.o3lsm.CompactionFilters;
import io.o3lsm.MergeOperators;
import io.o3lsm.spi.CompactionExecutor;
import java.nio.charset.StandardCharsets;

/**
 * The fields flush and compaction job specs (version 3) end with: what the job runs besides the
 * engine's own code, named so that a worker can find it.
 *
 * <pre>
 *   merge-operator:lp-bytes                      empty = none; else MergeOperators.checkJobName
 *   filter-name:lp-bytes                          empty = none; else a CompactionFilters name
 *   filter-now-millis:int64 filter-newest-snapshot:int64   both 0 without a filter
 * </pre>
 *
 * Specified in {@code docs/format/flush-job.md} and {@code compaction-job.md}. Stateless.
 */
public final class JobFunctions {
    private JobFunctions() {
    }

    /**
     * Longest merge operator or filter name (its bytes: names are ASCII): a family-aware DB's table
     * of its families' functions ({@code o3.cf:...}, version 3); other names are shorter.
     */
    public static final int MAX_NAME = MergeOperators.MAX_JOB_NAME;

    /** The merge operator's name (null: none) and the filter (null: none), read back. */
    public record Read(String mergeOperator, CompactionExecutor.Filter filter) {
    }

    public static void write(BodyWriter w, String mergeOperator, CompactionExecutor.Filter f) {
        w.lengthPrefixed(mergeOperator == null ? new byte[0] : mergeOperator.getBytes(StandardCharsets.UTF_8));
        w.lengthPrefixed(f == null ? new byte[0] : f.name().getBytes(StandardCharsets.UTF_8))
                .i64(f == null ? 0 : f.nowMillis()).i64(f == null ? 0 : f.newestSnapshot());
    }

    /** Reads and checks the fields; a bad name or stray filter numbers are malformed. */
    public static Read read(BodyReader r) throws MalformedMessageException {
        String merge = new String(r.lengthPrefixed(MAX_NAME, "merge-operator"), StandardCharsets.UTF_8);
        String name = new String(r.lengthPrefixed(MAX_NAME, "filter-name"),
                StandardCharsets.UTF_8);
        long now = r.i64("filter-now-millis");
        long newest = r.i64("filter-newest-snapshot");
        try {
            if (!merge.isEmpty()) {
                MergeOperators.checkJobName(merge);
            }
            if (name.isEmpty()) {
                if (now != 0 || newest != 0) {
                    throw new MalformedMessageException("expected filter-now-millis and filter-newest-snapshot 0 "
                            + "without a filter, found " + now + ", " + newest);
                }
                return new Read(merge.isEmpty() ? null : merge, null);
            }
            return new Read(merge.isEmpty() ? null : merge, new CompactionExecutor.Filter(name, now, newest));
        } catch (IllegalArgumentException ex) {
            throw new MalformedMessageException(ex.getMessage());
        }
    }
}
