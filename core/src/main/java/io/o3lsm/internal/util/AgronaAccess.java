package io.o3lsm.internal.util;

import io.o3lsm.O3Exception;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Agrona 2.x reads and writes memory through {@code jdk.internal.misc.Unsafe}, which the JVM only
 * lets it use with {@code --add-exports java.base/jdk.internal.misc=ALL-UNNAMED}. An embedded
 * library should not make every application add a JVM flag, so before the engine touches an Agrona
 * buffer it grants that export itself, the way the flag would (through the JDK's own
 * {@code Module.implAddExports*}, reached via {@code sun.misc.Unsafe} from {@code jdk.unsupported}).
 * If the JVM refuses (a future JDK, a security manager), the error says which flag to add.
 *
 * <p>Idempotent and thread-safe; costs nothing after the first call.
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
                    throw new O3Exception("o3lsm uses Agrona buffers, which need the JVM flag "
                            + "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED (granting it at run time failed: "
                            + t + ")", t);
                }
                if (!base.isExported("jdk.internal.misc", agrona)) {
                    throw new O3Exception("o3lsm uses Agrona buffers, which need the JVM flag "
                            + "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED");
                }
            }
            granted = true;
        }
    }
}
