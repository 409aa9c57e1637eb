package io.o3lsm.dm.protocol;

import io.o3lsm.CompactionFilters;
import io.o3lsm.MergeOperators;
import io.o3lsm.spi.CompactionExecutor;
import io.o3lsm.Compression;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The fields flush and compaction job specs (version 3) end with: what the job runs besides the
 * engine's own code, named so that a worker can find it.
 *
 * <pre>
 *   merge-operator:lp-bytes                      empty = none; else MergeOperators.checkJobName
 *   filter-name:lp-bytes                          empty = none; else a CompactionFilters name
 *   filter-now-millis:int64 filter-newest-snapshot:int64   both 0 without a filter
 *   family-count:int32                            0 for a DB without column families; at most 65536
 *   (family-id:int32 compression:int32 bloom-bits-per-key:int32)*   ids ascending, each once
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

    /** Most families a job may name. */
    public static final int MAX_FAMILIES = 1 << 16;

    /** The merge operator's name (null: none), the filter (null: none) and the family tables, read back. */
    public record Read(String mergeOperator, CompactionExecutor.Filter filter,
            List<CompactionExecutor.FamilyTable> familyTables) {
    }

    public static void write(BodyWriter w, String mergeOperator, CompactionExecutor.Filter f,
            List<CompactionExecutor.FamilyTable> families) {
        w.lengthPrefixed(mergeOperator == null ? new byte[0] : mergeOperator.getBytes(StandardCharsets.UTF_8));
        w.lengthPrefixed(f == null ? new byte[0] : f.name().getBytes(StandardCharsets.UTF_8))
                .i64(f == null ? 0 : f.nowMillis()).i64(f == null ? 0 : f.newestSnapshot());
        w.i32(families.size());
        for (CompactionExecutor.FamilyTable t : families) {
            w.i32(t.family()).i32(t.compression().code).i32(t.bloomBitsPerKey());
        }
    }

    /** Reads and checks the fields; a bad name or stray filter numbers are malformed. */
    public static Read read(BodyReader r) throws MalformedMessageException {
        String merge = new String(r.lengthPrefixed(MAX_NAME, "merge-operator"), StandardCharsets.UTF_8);
        String name = new String(r.lengthPrefixed(MAX_NAME, "filter-name"),
                StandardCharsets.UTF_8);
        long now = r.i64("filter-now-millis");
        long newest = r.i64("filter-newest-snapshot");
        List<CompactionExecutor.FamilyTable> families = families(r);
        try {
            if (!merge.isEmpty()) {
                MergeOperators.checkJobName(merge);
            }
            if (name.isEmpty()) {
                if (now != 0 || newest != 0) {
                    throw new MalformedMessageException("expected filter-now-millis and filter-newest-snapshot 0 "
                            + "without a filter, found " + now + ", " + newest);
                }
                return new Read(merge.isEmpty() ? null : merge, null, families);
            }
            return new Read(merge.isEmpty() ? null : merge, new CompactionExecutor.Filter(name, now, newest), families);
        } catch (IllegalArgumentException ex) {
            throw new MalformedMessageException(ex.getMessage());
        }
    }

    private static List<CompactionExecutor.FamilyTable> families(BodyReader r) throws MalformedMessageException {
        int n = r.i32("family-count");
        if (n < 0 || n > MAX_FAMILIES) {
            throw new MalformedMessageException("expected a family count in [0, " + MAX_FAMILIES + "], found " + n);
        }
        List<CompactionExecutor.FamilyTable> out = new ArrayList<>(n);
        int last = -1;
        for (int i = 0; i < n; i++) {
            int id = r.i32("family-id");
            int code = r.i32("family-compression");
            int bloom = r.i32("family-bloom-bits-per-key");
            Compression c = null;
            for (Compression x : Compression.values()) {
                if (x.code == code) {
                    c = x;
                }
            }
            if (id <= last || c == null || bloom < 0 || bloom > 64) {
                throw new MalformedMessageException("family table " + i + ": expected ascending family ids, a known "
                        + "compression and bloom bits in [0, 64]; found family " + id + " after " + last
                        + ", compression " + code + ", bloom " + bloom);
            }
            last = id;
            out.add(new CompactionExecutor.FamilyTable(id, c, bloom));
        }
        return List.copyOf(out);
    }
}
