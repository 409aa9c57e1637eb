package io.o3lsm.format;

import io.o3lsm.internal.util.AgronaAccess;

/**
 * For code that uses the format classes without a {@link io.o3lsm.DB} (the memory node, flush
 * workers, benchmarks): the format readers and writers run on Agrona buffers, which need
 * java.base's {@code jdk.internal.misc} exported to Agrona. {@code DB.open} grants it itself;
 * other callers call {@link #ensure()} once, before they create any Agrona buffer, or start the
 * JVM with {@code --add-exports java.base/jdk.internal.misc=ALL-UNNAMED} (class path) or
 * {@code =org.agrona} (Agrona on the module path). The grant uses the JDK module
 * {@code jdk.unsupported}: an application that runs as a named module ({@code java -m}) adds
 * {@code --add-modules jdk.unsupported} (see the README, "On the module path").
 *
 * <p>Idempotent and thread-safe.
 */
public final class FormatAccess {
    private FormatAccess() {
    }

    /**
     * Grants Agrona its export unless the JVM already does; throws {@link io.o3lsm.O3Exception}
     * naming the JVM flag that helps in this JVM if it cannot.
     */
    public static void ensure() {
        AgronaAccess.ensure();
    }
}
