package io.o3lsm.format.table;

import java.util.Locale;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * The one place that picks the lz4-java implementation for SST blocks ({@link TableBuilder}
 * compresses, {@link TableReader} decompresses; format in {@code docs/format/sstable.md}).
 *
 * <p><b>Default: pure Java</b> ({@link LZ4Factory#safeInstance()}): no JNI, no native library
 * unpacked into {@code java.io.tmpdir}, no {@code sun.misc.Unsafe}. lz4-java's
 * {@code fastestInstance()} would load its JNI binding, which writes a {@code liblz4-java-*.so}
 * to the temp directory. {@code unsafeInstance()} is no alternative: since lz4-java 1.8.1 (the
 * {@code at.yawk.lz4} fork we use) it is deprecated and returns the safe instance; the real
 * Unsafe-based code is only reachable through {@code unsafeInsecureInstance()}, whose
 * maintainers have not assessed it for untrusted input.
 *
 * <p><b>Opt-in: JNI</b>, with the system property {@value #PROPERTY}{@code =jni} set before the
 * first table is written or read ({@code -Do3lsm.lz4=jni}). This loads lz4-java's native library
 * ({@link LZ4Factory#nativeInstance()}, which unpacks it into the temp directory). If the library
 * cannot be loaded on this platform the pure-Java codec is used and a warning logged. Both write
 * and read the same LZ4 block format, so files are interchangeable. What each costs:
 * {@code docs/benchmarks.md} ("LZ4: pure Java vs JNI").
 *
 * <p>The choice is made once per class loader, when this class initializes. Both codecs are
 * thread-safe and stateless.
 */
final class Lz4Codec {
    /** The system property that selects the implementation: {@code java} (default) or {@code jni}. */
    static final String PROPERTY = "o3lsm.lz4";

    /** The chosen factory; {@link LZ4Factory#toString()} names it ({@code LZ4Factory:JavaSafe} or {@code LZ4Factory:JNI}). */
    static final LZ4Factory FACTORY = choose(System.getProperty(PROPERTY, "java"));
    /** Block compressor (LZ4's fast mode). */
    static final LZ4Compressor COMPRESSOR = FACTORY.fastCompressor();
    /** Block decompressor that never reads or writes outside the given ranges. */
    static final LZ4SafeDecompressor DECOMPRESSOR = FACTORY.safeDecompressor();

    private Lz4Codec() {
    }

    static LZ4Factory choose(String setting) {
        String s = setting.trim().toLowerCase(Locale.ROOT);
        if (s.equals("jni")) {
            try {
                return LZ4Factory.nativeInstance();
            } catch (Throwable t) { // AssertionError/UnsatisfiedLinkError when no native library fits
                System.getLogger(Lz4Codec.class.getName()).log(System.Logger.Level.WARNING,
                        "o3lsm: -D" + PROPERTY + "=jni asked for lz4-java's JNI codec, which failed to load ("
                                + t + "); using the pure-Java codec");
                return LZ4Factory.safeInstance();
            }
        }
        if (!s.equals("java")) {
            System.getLogger(Lz4Codec.class.getName()).log(System.Logger.Level.WARNING,
                    "o3lsm: -D" + PROPERTY + " must be java or jni, was '" + setting + "'; using the pure-Java codec");
        }
        return LZ4Factory.safeInstance();
    }
}
