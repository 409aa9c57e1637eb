package io.o3lsm.internal.util;

import io.o3lsm.O3Exception;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Agrona 2.x reads and writes memory through {@code jdk.internal.misc.Unsafe}, which java.base
 * only lets it use when exported to Agrona's module ({@code org.agrona} on the module path, the
 * unnamed module on the class path). An embedded library should not make every application add a
 * JVM flag, so before the engine touches an Agrona buffer it grants that export itself, the way the
 * flag would (through the JDK's own {@code Module.implAddExports*}, reached via
 * {@code sun.misc.Unsafe} from the JDK module {@code jdk.unsupported}).
 *
 * <p>That needs {@code jdk.unsupported} in the JVM's module graph. With the application on the
 * class path it always is (unless the run-time image or {@code --limit-modules} leaves it out).
 * With the application a named module ({@code java -m app/…}, o3lsm's jar an automatic module on
 * the module path) it is only when some module requires it, which an automatic module cannot
 * declare: such applications start the JVM with {@code --add-modules jdk.unsupported} (or say
 * {@code requires jdk.unsupported;} in their own {@code module-info}). If the grant fails, the
 * exception names the flag that helps ({@link #missingAccessMessage(boolean, String, String)}):
 * that one when {@code jdk.unsupported} is missing, otherwise
 * {@code --add-exports java.base/jdk.internal.misc=} followed by Agrona's module name
 * ({@code org.agrona}) or {@code ALL-UNNAMED}. The export flag alone also lets Agrona work without
 * {@code jdk.unsupported}, but {@link Uninterruptible} then logs that it cannot protect file
 * channels from interrupts, so it is not the hint for a missing {@code jdk.unsupported}.
 *
 * <p>Idempotent and thread-safe; costs nothing after the first success, and a failed call fails
 * the same way again when repeated.
 */
public final class AgronaAccess {
    private static volatile boolean granted;

    private AgronaAccess() {
    }

    /**
     * The JDK's fully privileged lookup, read through {@code sun.misc.Unsafe}; throws if this JVM
     * does not allow it.
     */
    static MethodHandles.Lookup implLookup() throws ReflectiveOperationException {
        Field theUnsafe = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
        theUnsafe.setAccessible(true);
        sun.misc.Unsafe u = (sun.misc.Unsafe) theUnsafe.get(null);
        Field implLookup = MethodHandles.Lookup.class.getDeclaredField("IMPL_LOOKUP");
        @SuppressWarnings("deprecation")
        Object lookupObj = u.getObject(u.staticFieldBase(implLookup), u.staticFieldOffset(implLookup));
        return (MethodHandles.Lookup) lookupObj;
    }

    public static void ensure() {
        if (granted) {
            return;
        }
        synchronized (AgronaAccess.class) {
            if (granted) {
                return;
            }
            Module base = Object.class.getModule();
            // do not load UnsafeBuffer's static initializer: Class literal only
            Module agrona = UnsafeBuffer.class.getModule();
            if (!base.isExported("jdk.internal.misc", agrona)) {
                try {
                    MethodHandles.Lookup lookup = implLookup();
                    if (agrona.isNamed()) {
                        MethodHandle add = lookup.findVirtual(Module.class, "implAddExports",
                                MethodType.methodType(void.class, String.class, Module.class));
                        add.invoke(base, "jdk.internal.misc", agrona);
                    } else {
                        MethodHandle add = lookup.findVirtual(Module.class, "implAddExportsToAllUnnamed",
                                MethodType.methodType(void.class, String.class));
                        add.invoke(base, "jdk.internal.misc");
                    }
                } catch (Throwable t) {
                    throw new O3Exception(jdkUnsupportedResolved() ? missingAccessMessage(agrona)
                            + " (granting the export at run time failed: " + t + ")" : missingAccessMessage(agrona), t);
                }
                if (!base.isExported("jdk.internal.misc", agrona)) {
                    throw new O3Exception(missingAccessMessage(agrona));
                }
            }
            granted = true;
        }
    }

    /** Whether the JDK module {@code jdk.unsupported} ({@code sun.misc.Unsafe}) is in this JVM's module graph. */
    static boolean jdkUnsupportedResolved() {
        return ModuleLayer.boot().findModule("jdk.unsupported").isPresent();
    }

    /** {@link #missingAccessMessage(boolean, String, String)} for this JVM. */
    private static String missingAccessMessage(Module agrona) {
        Module core = AgronaAccess.class.getModule();
        return missingAccessMessage(jdkUnsupportedResolved(), core.isNamed() ? core.getName() : null,
                agrona.isNamed() ? agrona.getName() : null);
    }

    /**
     * The message when Agrona cannot be given {@code jdk.internal.misc}, naming the JVM flag that
     * helps.
     *
     * @param jdkUnsupportedResolved whether {@code jdk.unsupported} is in the module graph
     * @param coreModule             o3lsm core's module name on the module path, null on the class path
     * @param agronaModule           Agrona's module name on the module path, null on the class path
     */
    static String missingAccessMessage(boolean jdkUnsupportedResolved, String coreModule, String agronaModule) {
        String where = coreModule != null
                ? "o3lsm runs on the module path (module " + coreModule + ")"
                : "o3lsm runs on the class path";
        if (!jdkUnsupportedResolved) {
            return "o3lsm needs the JDK module jdk.unsupported, which this JVM did not resolve: " + where
                    + (coreModule != null
                            ? ", where a JDK module is resolved only if some module requires it, and o3lsm's jar"
                                    + " (an automatic module) cannot"
                            : ", and the run-time image or --limit-modules left it out")
                    + ". Start the JVM with --add-modules jdk.unsupported"
                    + (coreModule != null ? " (or put 'requires jdk.unsupported;' in your module-info)" : "")
                    + "; o3lsm uses it to export java.base's jdk.internal.misc to Agrona's buffers";
        }
        return "o3lsm uses Agrona buffers, which need java.base's package jdk.internal.misc exported to them; "
                + where + " and could not grant it. Start the JVM with --add-exports java.base/jdk.internal.misc="
                + (agronaModule != null ? agronaModule : "ALL-UNNAMED");
    }
}
