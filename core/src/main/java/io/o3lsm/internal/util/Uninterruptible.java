package io.o3lsm.internal.util;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
import java.nio.channels.FileChannel;
import java.util.logging.Logger;

/**
 * Makes a {@link FileChannel} ignore thread interrupts. A {@code FileChannel} is an interruptible
 * channel: an I/O call on a thread whose interrupt flag is set closes the channel for every user
 * ({@code ClosedByInterruptException}), so one interrupted application thread inside a get or a put
 * would break the table reader every other thread shares, or the WAL (and with it all writes until
 * reopen). The JDK marks its own internal channels uninterruptible with
 * {@code sun.nio.ch.FileChannelImpl.setUninterruptible()}; this does the same for the engine's files,
 * reaching the method through the JDK's privileged lookup (as {@link AgronaAccess} does). Where that
 * is refused the channel stays interruptible and a warning is logged once. The interrupt flag itself
 * is left alone: the application still sees it.
 */
public final class Uninterruptible {
    private static final Logger LOG = Logger.getLogger("io.o3lsm");
    private static final Class<?> IMPL;
    private static final MethodHandle SET;

    static {
        Class<?> impl = null;
        MethodHandle set = null;
        try {
            impl = Class.forName("sun.nio.ch.FileChannelImpl");
            set = AgronaAccess.implLookup().findVirtual(impl, "setUninterruptible", MethodType.methodType(void.class));
        } catch (Throwable t) {
            LOG.warning("o3lsm: cannot make file channels ignore thread interrupts (" + t + "); an interrupted "
                    + "thread inside a DB call may close files other threads use");
        }
        IMPL = impl;
        SET = set;
    }

    private Uninterruptible() {
    }

    /** Marks {@code ch} uninterruptible when possible; returns it. */
    public static FileChannel apply(FileChannel ch) {
        if (SET != null && IMPL.isInstance(ch)) {
            try {
                SET.invoke(ch);
            } catch (Throwable t) {
                // stays interruptible; the static initializer already warned if the method is missing
            }
        }
        return ch;
    }

    /** True if channels can be made uninterruptible on this JVM. */
    public static boolean supported() {
        return SET != null;
    }
}
