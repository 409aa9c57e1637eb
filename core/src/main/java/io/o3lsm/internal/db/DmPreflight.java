package io.o3lsm.internal.db;

import io.o3lsm.O3Exception;
import io.o3lsm.Options;
import io.o3lsm.spi.CompactionOffloadExecutor;
import io.o3lsm.spi.FlushExecutor;
import io.o3lsm.spi.MemoryNode;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.ServiceLoader;

/**
 * What DM mode needs before a DB may be opened in it: a memory-node client on the class path (the
 * dm module, found with {@link ServiceLoader}), a readable, non-empty secret file, and with
 * {@code Options.flushOffload} a flush executor (the flush module), with
 * {@code Options.compactionOffload} a compaction offload executor (the compaction module). {@link DBImpl#open}
 * runs these checks before it creates, locks or recovers anything, so a misconfigured open leaves
 * the directory as it found it; {@link DmLink} uses what they return. Stateless.
 */
final class DmPreflight {
    private DmPreflight() {
    }

    /** What the checks found, for {@link DmLink} to use (so nothing is read twice). */
    /**
     * {@code flushProvider} is null unless {@code Options.flushOffload} or {@code flushWorkerSlots} is
     * set; {@code compactionProvider} is null unless {@code Options.compactionOffload} is.
     */
    record Checked(MemoryNode.Provider provider, byte[] secret, FlushExecutor.Provider flushProvider,
            CompactionOffloadExecutor.Provider compactionProvider) {
    }

    /** Every check; throws as {@link #provider()}, {@link #secret} and {@link #flushProvider()} do. */
    static Checked check(Options options) {
        MemoryNode.Provider p = provider();
        byte[] s = secret(options);
        return new Checked(p, s, options.flushOffload() || options.flushWorkerSlots() > 0 ? flushProvider() : null,
                options.compactionOffload() ? compactionProvider() : null);
    }

    /** The compaction offload executor provider, or an {@link O3Exception} naming the missing module. */
    static CompactionOffloadExecutor.Provider compactionProvider() {
        for (CompactionOffloadExecutor.Provider candidate : ServiceLoader.load(CompactionOffloadExecutor.Provider.class)) {
            return candidate;
        }
        throw new O3Exception("Options.compactionOffload is set but no compaction offload executor is on the class "
                + "path (add the o3lsm-compaction module)");
    }

    /** The flush executor provider (offloaded flushes), or an {@link O3Exception} naming the missing module. */
    static FlushExecutor.Provider flushProvider() {
        for (FlushExecutor.Provider candidate : ServiceLoader.load(FlushExecutor.Provider.class)) {
            return candidate;
        }
        throw new O3Exception("Options.flushOffload or flushWorkerSlots is set but no flush executor is on the class path "
                + "(add the o3lsm-flush module)");
    }

    /** The memory-node client provider, or an {@link O3Exception} naming the missing module. */
    static MemoryNode.Provider provider() {
        for (MemoryNode.Provider candidate : ServiceLoader.load(MemoryNode.Provider.class)) {
            return candidate;
        }
        throw new O3Exception("Options.memoryNode is set but no memory-node client is on the class path "
                + "(add the o3lsm-dm module)");
    }

    /** The cluster secret of {@code options}, without trailing line breaks and blanks. */
    static byte[] secret(Options options) {
        return readSecret(options.memoryNodeSecretFile(), "memory-node");
    }

    /** The cluster secret in {@code file} ({@code what} names its use in errors), without trailing line breaks and blanks. */
    static byte[] readSecret(java.nio.file.Path file, String what) {
        byte[] secret;
        try {
            secret = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new O3Exception("cannot read the " + what + " secret file " + file + ": " + e, e);
        }
        int n = secret.length; // trailing line breaks and spaces are not part of the secret
        while (n > 0 && (secret[n - 1] == '\n' || secret[n - 1] == '\r' || secret[n - 1] == ' '
                || secret[n - 1] == '\t')) {
            n--;
        }
        if (n == 0) {
            throw new IllegalArgumentException("the " + what + " secret file " + file + " is empty");
        }
        return Arrays.copyOf(secret, n);
    }
}
