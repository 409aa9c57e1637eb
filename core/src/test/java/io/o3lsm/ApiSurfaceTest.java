package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Only {@code io.o3lsm} and {@code io.o3lsm.spi} are API: no public or protected member of a type
 * there may mention a type from {@code io.o3lsm.internal}, so internals can change freely.
 */
class ApiSurfaceTest {
    private static List<Class<?>> apiClasses() throws Exception {
        Path root = Path.of(DB.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<Class<?>> out = new ArrayList<>();
        for (String pkg : List.of("io/o3lsm", "io/o3lsm/spi")) {
            try (Stream<Path> s = Files.list(root.resolve(pkg))) {
                for (Path p : (Iterable<Path>) s::iterator) {
                    String n = p.getFileName().toString();
                    if (n.endsWith(".class") && !n.equals("package-info.class")) {
                        out.add(Class.forName(pkg.replace('/', '.') + "." + n.substring(0, n.length() - 6)));
                    }
                }
            }
        }
        return out;
    }

    @Test
    void shouldNotExposeInternalTypesInThePublicApi() throws Exception {
        List<String> leaks = new ArrayList<>();
        List<Class<?>> classes = apiClasses();
        assertTrue(classes.size() >= 8, "found API classes: " + classes);
        for (Class<?> c : classes) {
            if (!Modifier.isPublic(c.getModifiers())) {
                continue;
            }
            for (Method m : c.getDeclaredMethods()) {
                if (exposed(m.getModifiers())) {
                    check(leaks, c + "." + m.getName(), m.getGenericReturnType());
                    for (Type t : m.getGenericParameterTypes()) {
                        check(leaks, c + "." + m.getName(), t);
                    }
                }
            }
            for (Constructor<?> k : c.getDeclaredConstructors()) {
                if (exposed(k.getModifiers())) {
                    for (Type t : k.getGenericParameterTypes()) {
                        check(leaks, c + ".<init>", t);
                    }
                }
            }
            for (Field f : c.getDeclaredFields()) {
                if (exposed(f.getModifiers())) {
                    check(leaks, c + "." + f.getName(), f.getGenericType());
                }
            }
        }
        assertEquals(List.of(), leaks);
    }

    private static boolean exposed(int mod) {
        return Modifier.isPublic(mod) || Modifier.isProtected(mod);
    }

    private static void check(List<String> leaks, String where, Type t) {
        if (t.getTypeName().contains("io.o3lsm.internal")) {
            leaks.add(where + " mentions " + t.getTypeName());
        }
    }

}
