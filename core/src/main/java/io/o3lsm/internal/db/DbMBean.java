package io.o3lsm.internal.db;

import io.o3lsm.DBStats;
import io.o3lsm.HistogramSnapshot;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.DynamicMBean;
import javax.management.InstanceAlreadyExistsException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * The MBean of one open DB ({@code Options.jmx}, on by default): object name
 * {@code io.o3lsm:type=DB,name="<absolute directory>"} ({@link ObjectName#quote quoted}); if another open
 * DB of this JVM already has that name, {@code ,instance=N} is appended (N counts per JVM). Read-only
 * attributes, all numbers:
 * <ul>
 * <li>one per ticker: the ticker's name without {@code o3.}, dots and dashes as underscores
 * ({@code o3.block.cache.hit} → {@code block_cache_hit});</li>
 * <li>per histogram {@code <name>_count}, {@code _sum}, {@code _p50}, {@code _p95}, {@code _p99},
 * {@code _max} in microseconds ({@code o3.db.get.micros} → {@code db_get_micros_p99});</li>
 * <li>the numeric properties named in {@link #PROPERTIES}, the same way ({@code o3.estimate-num-keys} →
 * {@code estimate_num_keys}), and {@code num_files_at_level<N>} for every level.</li>
 * </ul>
 * A read of several attributes ({@code getAttributes}, what JMX exporters do) takes one
 * {@code DBStats} snapshot for all of them. Registered by {@link #register} after the DB opened,
 * unregistered first thing at close. Thread-safe: every read goes to the DB's own lock-free counters.
 *
 * <p>This class alone touches {@code javax.management}: on a module path without
 * {@code java.management} it fails to link, which the caller catches (the DB opens without it).
 */
final class DbMBean implements DynamicMBean {
    /** Numeric properties exposed as attributes (besides {@code num-files-at-level<N>}). */
    static final List<String> PROPERTIES = List.of("o3.estimate-num-keys", "o3.total-sst-files-size",
            "o3.live-sst-files-size", "o3.estimate-live-data-size", "o3.cur-size-active-mem-table",
            "o3.cur-size-all-mem-tables", "o3.size-all-mem-tables", "o3.num-immutable-mem-table",
            "o3.num-entries-active-mem-table", "o3.estimate-pending-compaction-bytes", "o3.num-running-compactions",
            "o3.num-running-flushes", "o3.background-errors", "o3.block-cache-usage", "o3.block-cache-capacity",
            "o3.num-snapshots", "o3.oldest-snapshot-time", "o3.last-sequence", "o3.is-write-stopped");

    private static final AtomicLong INSTANCES = new AtomicLong();

    private final Engine e;
    private final DbProperties properties;
    /** Attribute name → what it reads: "t:" ticker, "h:<histogram>:<field>", "p:" property. */
    private final Map<String, String> sources = new LinkedHashMap<>();
    private final MBeanInfo info;

    private DbMBean(Engine e, DbProperties properties) {
        this.e = e;
        this.properties = properties;
        DBStats st = properties.stats();
        for (String t : st.tickers().keySet()) {
            sources.put(attributeName(t), "t:" + t);
        }
        for (String h : st.histograms().keySet()) {
            for (String f : List.of("count", "sum", "p50", "p95", "p99", "max")) {
                sources.put(attributeName(h) + "_" + f, "h:" + h + ":" + f);
            }
        }
        for (String p : PROPERTIES) {
            sources.put(attributeName(p), "p:" + p);
        }
        for (int l = 0; l < io.o3lsm.internal.version.Version.NUM_LEVELS; l++) {
            sources.put(attributeName(DbProperties.NUM_FILES_AT_LEVEL + l), "p:" + DbProperties.NUM_FILES_AT_LEVEL + l);
        }
        List<MBeanAttributeInfo> attrs = new ArrayList<>();
        for (Map.Entry<String, String> s : sources.entrySet()) {
            String src = s.getValue();
            boolean dbl = src.startsWith("h:") && !src.endsWith(":count");
            attrs.add(new MBeanAttributeInfo(s.getKey(), dbl ? "double" : "long", describe(src), true, false, false));
        }
        this.info = new MBeanInfo(DbMBean.class.getName(), "o3lsm DB " + e.dir + ": tickers, histograms "
                + "(microseconds) and properties since open (docs/operations/metrics.md)",
                attrs.toArray(new MBeanAttributeInfo[0]), null, null, null);
    }

    /** {@code o3.block.cache-hit} → {@code block_cache_hit}. */
    static String attributeName(String name) {
        String n = name.startsWith("o3.") ? name.substring(3) : name;
        return n.replace('.', '_').replace('-', '_');
    }

    private static String describe(String src) {
        return switch (src.charAt(0)) {
            case 't' -> "ticker " + src.substring(2);
            case 'h' -> "histogram " + src.substring(2).replace(':', ' ') + " (microseconds)";
            default -> "property " + src.substring(2);
        };
    }

    /**
     * Registers the MBean of {@code e}'s DB with the platform MBean server; returns what unregisters
     * it (idempotent). Throws whatever JMX throws; the caller logs it and opens without.
     */
    static AutoCloseable register(Engine e, DbProperties properties) throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        String base = "io.o3lsm:type=DB,name=" + ObjectName.quote(e.dir.toAbsolutePath().toString());
        DbMBean bean = new DbMBean(e, properties);
        ObjectName name = new ObjectName(base);
        try {
            server.registerMBean(bean, name);
        } catch (InstanceAlreadyExistsException ex) {
            while (true) { // another DB of this JVM with the same directory name (a replica, an earlier open not closed)
                name = new ObjectName(base + ",instance=" + INSTANCES.incrementAndGet());
                try {
                    server.registerMBean(bean, name);
                    break;
                } catch (InstanceAlreadyExistsException again) {
                    // next number
                }
            }
        }
        ObjectName registered = name;
        Engine.LOG.fine("registered MBean " + registered);
        return new AutoCloseable() {
            private boolean done;

            @Override
            public synchronized void close() throws Exception {
                if (!done) {
                    done = true;
                    if (server.isRegistered(registered)) {
                        server.unregisterMBean(registered);
                    }
                }
            }

            @Override
            public String toString() {
                return registered.toString();
            }
        };
    }

    @Override
    public Object getAttribute(String attribute) throws AttributeNotFoundException {
        String src = sources.get(attribute);
        if (src == null) {
            throw new AttributeNotFoundException("no attribute " + attribute + " in the MBean of " + e.dir);
        }
        return read(src, src.startsWith("p:") ? null : properties.stats());
    }

    private Object read(String src, DBStats st) {
        switch (src.charAt(0)) {
            case 't':
                return st.ticker(src.substring(2));
            case 'h': {
                int colon = src.lastIndexOf(':');
                HistogramSnapshot h = st.histogram(src.substring(2, colon));
                return switch (src.substring(colon + 1)) {
                    case "count" -> (Object) h.count();
                    case "sum" -> h.sum();
                    case "p50" -> h.p50();
                    case "p95" -> h.p95();
                    case "p99" -> h.p99();
                    default -> h.max();
                };
            }
            default:
                return Long.parseLong(properties.property(src.substring(2)));
        }
    }

    @Override
    public AttributeList getAttributes(String[] attributes) {
        AttributeList out = new AttributeList();
        DBStats st;
        try {
            st = properties.stats();
        } catch (RuntimeException closed) {
            return out; // closing: nothing to report
        }
        for (String a : attributes) {
            String src = sources.get(a);
            if (src != null) {
                try {
                    out.add(new Attribute(a, read(src, st)));
                } catch (RuntimeException ex) {
                    // a property that could not be read now (closing): left out, as JMX allows
                }
            }
        }
        return out;
    }

    @Override
    public void setAttribute(Attribute attribute) throws AttributeNotFoundException {
        throw new AttributeNotFoundException("the attributes of " + e.dir + "'s MBean are read-only");
    }

    @Override
    public AttributeList setAttributes(AttributeList attributes) {
        return new AttributeList();
    }

    @Override
    public Object invoke(String actionName, Object[] params, String[] signature) {
        throw new UnsupportedOperationException("the MBean of " + e.dir + " has no operations");
    }

    @Override
    public MBeanInfo getMBeanInfo() {
        return info;
    }
}
