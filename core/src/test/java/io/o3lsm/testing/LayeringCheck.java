package io.o3lsm.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The boundary between core and the other modules: only {@code io.o3lsm}, {@code io.o3lsm.spi}
 * and the published {@code io.o3lsm.format…} packages may be used outside core; everything under
 * {@code io.o3lsm.internal} is core's own. Every other module runs {@link #violations} over its
 * compiled main and test classes in a test, so crossing the boundary fails the build.
 *
 * <p>It reads class files, not sources: a class that names an internal type in a field, a method
 * signature, a call, a cast or a class literal carries the type's binary name in its constant pool.
 * (A compile-time constant copied from an internal class leaves no trace; such constants belong in
 * published classes anyway.)
 */
public final class LayeringCheck {
    private static final byte[] INTERNAL = "io/o3lsm/internal/".getBytes(StandardCharsets.US_ASCII);

    private LayeringCheck() {
    }

    /** The module's compiled main and test classes, found from a class of its tests. */
    public static List<Path> moduleClassDirs(Class<?> testClass) {
        try {
            Path testClasses = Path.of(testClass.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path target = testClasses.getParent();
            List<Path> dirs = new ArrayList<>();
            for (Path p : List.of(target.resolve("classes"), testClasses)) {
                if (Files.isDirectory(p)) {
                    dirs.add(p);
                }
            }
            return dirs;
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** "Class → internal type" for every reference to {@code io.o3lsm.internal} in the class files under {@code dirs}. */
    public static List<String> violations(List<Path> dirs) {
        TreeSet<String> out = new TreeSet<>();
        for (Path dir : dirs) {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".class"))::iterator) {
                    byte[] b = Files.readAllBytes(f);
                    for (int at = indexOf(b, 0); at >= 0; at = indexOf(b, at + 1)) {
                        int end = at;
                        while (end < b.length && isNameByte(b[end])) {
                            end++;
                        }
                        out.add(dir.relativize(f) + " -> " + new String(b, at, end - at, StandardCharsets.US_ASCII)
                                .replace('/', '.'));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return new ArrayList<>(out);
    }

    private static boolean isNameByte(byte c) {
        return c == '/' || c == '$' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
                || (c >= 'A' && c <= 'Z');
    }

    private static int indexOf(byte[] b, int from) {
        outer:
        for (int i = from; i <= b.length - INTERNAL.length; i++) {
            for (int j = 0; j < INTERNAL.length; j++) {
                if (b[i + j] != INTERNAL[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
