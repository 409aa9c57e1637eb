package io.o3lsm.format.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.testing.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which LZ4 implementation the tables use ({@link Lz4Codec}), observed in a fresh child JVM (this
 * JVM's other tests may have loaded anything) with its own empty {@code java.io.tmpdir}, after it
 * wrote and read back compressed tables ({@link Lz4Probe}).
 */
class Lz4CodecTest {
    @TempDir
    Path dir;

    private Map<String, String> probe(String... jvmFlags) throws Exception {
        Path tmp = Files.createDirectories(dir.resolve("tmpdir"));
        Path data = Files.createDirectories(dir.resolve("data"));
        List<String> args = new ArrayList<>(List.of(jvmFlags));
        args.addAll(List.of("-Xmx256m", "-Djava.io.tmpdir=" + tmp, "-cp", System.getProperty("java.class.path"),
                Lz4Probe.class.getName(), data.toString()));
        ChildJvm.Result r = ChildJvm.run(dir, 120, args);
        assertEquals(0, r.exitCode(), r.toString());
        Map<String, String> out = new HashMap<>();
        for (String line : r.output().split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                out.put(line.substring(0, eq), line.substring(eq + 1).trim());
            }
        }
        out.put("output", r.output());
        return out;
    }

    @Test
    void shouldCompressAndDecompressTablesInPureJavaWithoutExtractingTheJniLibraryByDefault() throws Exception {
        Map<String, String> p = probe();
        String ctx = p.get("output");
        assertEquals("LZ4Factory:JavaSafe", p.get("codec"), ctx);
        assertEquals("false", p.get("nativeLoaded"), ctx);
        assertEquals("false", p.get("mapped"), ctx);
        assertEquals("[]", p.get("tmpFiles"), ctx);
    }

    /** The opt-in, and proof that the observations above can see a loaded JNI library. */
    @Test
    void shouldLoadTheJniCodecOnlyWhenTheSystemPropertyAsksForIt() throws Exception {
        Map<String, String> p = probe("-D" + Lz4Codec.PROPERTY + "=jni");
        String ctx = p.get("output");
        assertEquals("LZ4Factory:JNI", p.get("codec"), ctx);
        assertEquals("true", p.get("nativeLoaded"), ctx);
        assertEquals("true", p.get("mapped"), ctx);
        assertTrue(p.get("tmpFiles").contains("liblz4-java"), ctx);
    }
}
