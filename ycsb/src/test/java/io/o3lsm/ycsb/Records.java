package io.o3lsm.ycsb;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.Reader;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import site.ycsb.ByteIterator;
import site.ycsb.Status;
import site.ycsb.measurements.Measurements;
import site.ycsb.workloads.CoreWorkload;

/**
 * What YCSB's CoreWorkload wrote for a record, for checking the DB afterwards: the key of record
 * number {@code n} ({@code buildKeyName}) and, with {@code dataintegrity=true}, the value of each field
 * ({@code buildDeterministicValue}, reached by reflection: it is private in YCSB 0.17).
 */
final class Records extends CoreWorkload {
    private final Method value;
    final int fieldCount;

    /** The records of {@code workload} (a file of workloads/) with {@code overrides}. */
    Records(String workload, String... overrides) throws Exception {
        this(properties(workload, overrides));
    }

    private Records(Properties p) throws Exception {
        init(p);
        fieldCount = Integer.parseInt(p.getProperty(FIELD_COUNT_PROPERTY, FIELD_COUNT_PROPERTY_DEFAULT));
        value = CoreWorkload.class.getDeclaredMethod("buildDeterministicValue", String.class, String.class);
        value.setAccessible(true);
    }

    /**
     * The workload's properties, also handed to YCSB's measurements: CoreWorkload's constructor asks
     * for them, so they must be set before it runs.
     */
    static Properties properties(String workload, String... overrides) throws Exception {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(Path.of("workloads", workload))) {
            p.load(r);
        }
        for (int i = 0; i < overrides.length; i += 2) {
            p.setProperty(overrides[i], overrides[i + 1]);
        }
        Measurements.setProperties(p);
        return p;
    }

    String key(long n) {
        return buildKeyName(n);
    }

    String value(String key, String field) throws Exception {
        return (String) value.invoke(this, key, field);
    }

    /** Asserts that record {@code n} is in the DB with every field holding YCSB's deterministic value. */
    void assertComplete(O3Client c, long n) throws Exception {
        String key = key(n);
        Map<String, ByteIterator> got = new HashMap<>();
        assertEquals(Status.OK, c.read("usertable", key, null, got), key);
        assertEquals(fieldCount, got.size(), key + " has fields " + got.keySet());
        for (int f = 0; f < fieldCount; f++) {
            String field = "field" + f;
            assertEquals(value(key, field), got.get(field).toString(), key + " " + field);
        }
    }
}
