package io.o3lsm;

import io.o3lsm.internal.util.TtlStamp;
import java.time.Duration;
import java.util.ServiceLoader;

/**
 * The built-in {@link CompactionFilter} (TTL) and the lookup of a filter by name (what flush workers
 * and compactors do with the name a job carries). Stateless; thread-safe.
 */
public final class CompactionFilters {
    private CompactionFilters() {
    }

    /**
     * Name prefix of {@link #ttl}: {@code o3.ttl:MILLIS}, or {@code o3.ttl:MILLIS,NAME} when it wraps
     * the filter named {@code NAME}.
     */
    public static final String TTL = "o3.ttl";

    /**
     * Longest filter name but a family table: a user filter's (200) behind the TTL prefix. A job of a
     * family-aware DB may carry a table of up to {@link MergeOperators#MAX_JOB_NAME} characters.
     */
    public static final int MAX_JOB_NAME = 240;

    /**
     * The filter {@link Options#ttl} installs: values carry a write-time stamp (the last 8 bytes,
     * little-endian milliseconds; {@code docs/format/ttl.md}); a value whose stamp plus {@code ttl}
     * is before {@link CompactionFilter.Context#nowMillis} is removed. Other values are shown to
     * {@code inner} (null: none) without their stamp; a value {@code inner} changes keeps its
     * original stamp. Only for DBs opened with {@link Options#ttl}: it fails the job on a value
     * shorter than a stamp.
     *
     * @param ttl at least one millisecond
     */
    public static CompactionFilter ttl(Duration ttl, CompactionFilter inner) {
        if (ttl == null || ttl.toMillis() <= 0) {
            throw new IllegalArgumentException("ttl must be at least 1 ms, was " + ttl);
        }
        if (inner != null) {
            String n = inner.name();
            MergeOperators.checkName(n, "compaction filter");
            if (n.startsWith(TTL + ":")) {
                throw new IllegalArgumentException("the TTL filter cannot wrap another TTL filter (" + n + ")");
            }
        }
        return new Ttl(ttl.toMillis(), inner);
    }

    /**
     * Throws {@link IllegalArgumentException} unless {@code name} is one a job may carry: a filter
     * name ({@link MergeOperators#checkName} rules) or {@code o3.ttl:MILLIS[,NAME]}.
     */
    public static void checkName(String name) {
        if (io.o3lsm.internal.util.FamilyFunctions.isTable(name)) {
            io.o3lsm.internal.util.FamilyFunctions.decode(name); // a family-aware DB's table of filters
            return;
        }
        if (name != null && name.startsWith(TTL + ":")) {
            parseTtl(name);
            return;
        }
        MergeOperators.checkName(name, "compaction filter");
    }

    /**
     * The filter named {@code name}: the built-in TTL filter ({@code o3.ttl:MILLIS}, or
     * {@code o3.ttl:MILLIS,NAME} wrapping the filter {@code NAME} found by this method), else the
     * first {@link CompactionFilter} {@link ServiceLoader} finds on the class path of {@code loader}
     * (null: this class's) whose {@link CompactionFilter#name()} equals it.
     *
     * @throws IllegalArgumentException naming the filter if none is found
     */
    public static CompactionFilter byName(String name, ClassLoader loader) {
        if (io.o3lsm.internal.util.FamilyFunctions.isTable(name)) {
            return io.o3lsm.internal.util.FamilyFunctions.Filter.byName(name, loader);
        }
        checkName(name);
        if (name.startsWith(TTL + ":")) {
            Object[] p = parseTtl(name);
            String innerName = (String) p[1];
            return new Ttl((Long) p[0], innerName == null ? null : byName(innerName, loader));
        }
        ServiceLoader<CompactionFilter> sl = ServiceLoader.load(CompactionFilter.class,
                loader != null ? loader : CompactionFilters.class.getClassLoader());
        for (CompactionFilter f : sl) {
            if (name.equals(f.name())) {
                return f;
            }
        }
        throw new IllegalArgumentException("compaction filter \"" + name + "\" is neither built in nor provided on "
                + "this process's class path (META-INF/services/io.o3lsm.CompactionFilter)");
    }

    /** {millis, inner name or null} of {@code o3.ttl:MILLIS[,NAME]}. */
    private static Object[] parseTtl(String name) {
        String rest = name.substring(TTL.length() + 1);
        int comma = rest.indexOf(',');
        String digits = comma < 0 ? rest : rest.substring(0, comma);
        long millis;
        try {
            millis = Long.parseLong(digits);
        } catch (NumberFormatException ex) {
            millis = -1;
        }
        if (millis <= 0 || digits.startsWith("+") || name.length() > MAX_JOB_NAME) {
            throw new IllegalArgumentException("a TTL filter name is o3.ttl:MILLIS[,NAME] with MILLIS >= 1, at most "
                    + MAX_JOB_NAME + " characters, was \"" + name + "\"");
        }
        String inner = comma < 0 ? null : rest.substring(comma + 1);
        if (inner != null) {
            MergeOperators.checkName(inner, "compaction filter");
            if (inner.startsWith(TTL + ":")) {
                throw new IllegalArgumentException("a TTL filter cannot wrap another TTL filter: \"" + name + "\"");
            }
        }
        return new Object[] {millis, inner};
    }

    private static final class Ttl implements CompactionFilter {
        private final long ttlMillis;
        private final CompactionFilter inner;
        private final String name;

        Ttl(long ttlMillis, CompactionFilter inner) {
            this.ttlMillis = ttlMillis;
            this.inner = inner;
            this.name = TTL + ":" + ttlMillis + (inner == null ? "" : "," + inner.name());
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public Decision filter(Context ctx, byte[] key, byte[] value) {
            long written = TtlStamp.writeTime(value);
            if (TtlStamp.expired(written, ttlMillis, ctx.nowMillis())) {
                return CompactionFilter.remove();
            }
            if (inner == null) {
                return CompactionFilter.keep();
            }
            Decision d = inner.filter(ctx, key, TtlStamp.strip(value));
            if (d == null || d.kind() != Decision.Kind.CHANGE) {
                return d;
            }
            byte[] v = d.newValue();
            return CompactionFilter.change(TtlStamp.stamp(v, 0, v.length, written));
        }

        @Override
        public String toString() {
            return name;
        }
    }
}
