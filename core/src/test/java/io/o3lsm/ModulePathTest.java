package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.testing.ChildJvm;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import net.jpountz.lz4.LZ4Factory;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * o3lsm as an application on the module path uses it: a child JVM runs a small named module
 * ({@code demo.app}, {@code requires o3lsm.core}) with core, Agrona and lz4-java as automatic
 * modules, which opens a DB in a temp directory, puts a key and gets it back, and closes. The same
 * jars on the class path, with no JVM flag, are the control. No surefire flag reaches the child.
 *
 * <p>Core's jar is made here from the compiled classes (this runs before {@code package}); with
 * no {@code Automatic-Module-Name}, its module name comes from the file name
 * {@code o3lsm-core-….jar}: {@code o3lsm.core}.
 */
class ModulePathTest {
    @TempDir
    Path dir;

    private Path mods;
    private Path app;

    private static final String MODULE_INFO = "module demo.app {\n    requires o3lsm.core;\n}\n";

    /** Opens twice if the first open fails (to show the second fails the same way), then exits 3. */
    private static final String MAIN = """
            package demo.app;

            import io.o3lsm.DB;
            import io.o3lsm.O3Exception;
            import io.o3lsm.Options;
            import java.nio.charset.StandardCharsets;
            import java.nio.file.Path;

            public final class Main {
                public static void main(String[] args) {
                    for (int attempt = 1; attempt <= 2; attempt++) {
                        try (DB db = DB.open(Path.of(args[0]), Options.defaults())) {
                            db.put("k".getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8));
                            System.out.println("value=" + new String(db.get("k".getBytes(StandardCharsets.UTF_8)),
                                    StandardCharsets.UTF_8));
                            return;
                        } catch (O3Exception e) {
                            System.out.println("open " + attempt + " failed: " + e.getMessage());
                        }
                    }
                    System.exit(3);
                }
            }
            """;

    @BeforeEach
    void buildModules() throws Exception {
        mods = Files.createDirectories(dir.resolve("mods"));
        Path core = location(DB.class);
        if (Files.isDirectory(core)) {
            jar(core, mods.resolve("o3lsm-core-0.1.0-SNAPSHOT.jar"));
        } else {
            Files.copy(core, mods.resolve("o3lsm-core-0.1.0-SNAPSHOT.jar"));
        }
        for (Class<?> c : List.of(UnsafeBuffer.class, LZ4Factory.class)) {
            Path jar = location(c);
            assertTrue(Files.isRegularFile(jar), c + " should come from a jar: " + jar);
            Files.copy(jar, mods.resolve(jar.getFileName()));
        }
        Path src = dir.resolve("src");
        Files.createDirectories(src.resolve("demo/app"));
        Files.writeString(src.resolve("module-info.java"), MODULE_INFO);
        Files.writeString(src.resolve("demo/app/Main.java"), MAIN);
        app = dir.resolve("app");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "tests need a JDK (javax.tools) to compile the module");
        java.io.ByteArrayOutputStream diagnostics = new java.io.ByteArrayOutputStream();
        int rc = javac.run(null, diagnostics, diagnostics, "-d", app.toString(), "--module-path", mods.toString(),
                src.resolve("module-info.java").toString(), src.resolve("demo/app/Main.java").toString());
        assertEquals(0, rc, () -> "compiling demo.app:\n" + diagnostics);
    }

    private ChildJvm.Result run(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("-Xmx256m"));
        command.addAll(List.of(args));
        command.add(Files.createTempDirectory(dir, "db").toString());
        return ChildJvm.run(dir, 120, command);
    }

    @Test
    void shouldOpenPutAndGetOnTheModulePathWithAddModulesJdkUnsupported() throws Exception {
        ChildJvm.Result r = run("--module-path", mods + java.io.File.pathSeparator + app,
                "--add-modules", "jdk.unsupported", "-m", "demo.app/demo.app.Main");
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.output().contains("value=v"), r.toString());
        assertFalse(r.output().contains("WARNING"), "no degraded mode either: " + r);
    }

    @Test
    void shouldFailEveryOpenOnTheModulePathWithAMessageNamingAddModulesJdkUnsupportedWhenItIsMissing() throws Exception {
        ChildJvm.Result r = run("--module-path", mods + java.io.File.pathSeparator + app,
                "-m", "demo.app/demo.app.Main");
        assertEquals(3, r.exitCode(), r.toString());
        for (int attempt = 1; attempt <= 2; attempt++) {
            String line = r.output().lines().filter(l -> l.startsWith("open ")).skip(attempt - 1).findFirst().orElse("");
            assertTrue(line.startsWith("open " + attempt + " failed: "), r.toString());
            assertTrue(line.contains("--add-modules jdk.unsupported"), "names the flag that helps: " + r);
            assertTrue(line.contains("module path"), r.toString());
            assertFalse(line.contains("ALL-UNNAMED"), "names no flag that does not help: " + r);
        }
    }

    @Test
    void shouldOpenPutAndGetOnTheClassPathWithoutAnyFlag() throws Exception {
        ChildJvm.Result r = run("-cp", classPath(), "demo.app.Main");
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.output().contains("value=v"), r.toString());
        assertFalse(r.output().contains("WARNING"), r.toString());
    }

    /** A run-time image without jdk.unsupported (but with java.logging, which the engine needs), emulated with --limit-modules. */
    @Test
    void shouldNameAddModulesJdkUnsupportedOnTheClassPathWhenTheImageLeavesItOut() throws Exception {
        ChildJvm.Result r = run("--limit-modules", "java.base,java.logging", "-cp", classPath(), "demo.app.Main");
        assertEquals(3, r.exitCode(), r.toString());
        assertTrue(r.output().contains("--add-modules jdk.unsupported"), r.toString());
        assertTrue(r.output().contains("class path"), r.toString());

        ChildJvm.Result fixed = run("--limit-modules", "java.base,java.logging", "--add-modules", "jdk.unsupported",
                "-cp", classPath(), "demo.app.Main");
        assertEquals(0, fixed.exitCode(), fixed.toString());
        assertTrue(fixed.output().contains("value=v"), fixed.toString());
    }

    private String classPath() throws IOException {
        List<String> entries = new ArrayList<>();
        try (Stream<Path> s = Files.list(mods)) {
            s.sorted().forEach(p -> entries.add(p.toString()));
        }
        entries.add(app.toString());
        return String.join(java.io.File.pathSeparator, entries);
    }

    private static Path location(Class<?> c) throws URISyntaxException {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    private static void jar(Path classes, Path jar) throws IOException {
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        try (OutputStream os = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(os, m);
                Stream<Path> files = Files.walk(classes)) {
            for (Path p : (Iterable<Path>) files.sorted()::iterator) {
                if (Files.isRegularFile(p)) {
                    out.putNextEntry(new JarEntry(classes.relativize(p).toString().replace('\\', '/')));
                    Files.copy(p, out);
                    out.closeEntry();
                }
            }
        }
        assertTrue(Files.size(jar) > 0, jar.toString());
    }
}
