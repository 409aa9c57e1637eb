package io.o3lsm.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The run modes of {@code bin/o3 bench --mode}: where the engine keeps its write buffer.
 *
 * <ul>
 *   <li>{@code local}: the embedded engine on one machine; {@code --local-budget} is the memtable
 *   budget of every engine (the write buffer size).</li>
 *   <li>{@code dm}: o3 with its write buffer extended into disaggregated memory: {@code --local-budget}
 *   (default 16 MiB) in this process plus {@code --dm-budget} (default 1 GiB) on a memory node, either
 *   a running one ({@code --memnode HOST:PORT --secret-file F}) or one the runner starts as a child
 *   process ({@link MemNodeLauncher}). Only o3 has it; with {@code --compare} the other engines run
 *   in local mode with the local budget as their write buffer.</li>
 *   <li>{@code dm-flush}: {@code dm} plus flush offloading ({@code Options.flushOffload(true)}): flushes of
 *   shards already on the memory node run on flush workers, {@code --flush-workers N} (default 2) child
 *   JVMs the runner starts ({@link FlushWorkerLauncher}), or the workers registered with a given
 *   {@code --memnode}. {@code --flush-placement load|always}, {@code --flush-min-bytes}.</li>
 *   <li>{@code caas}: the compaction-offload-only baseline (Disaggregated-RocksDB / CaaS-LSM): the write
 *   buffer and flushes stay local, compactions run on compactors ({@code Options.compactionOffload(true)},
 *   {@code memtableOffload(false)}: the DB connects to a memory node only for its coordinator),
 *   {@code --compactors N} (default 1) child JVMs the runner starts with {@code --compactor-slots}
 *   (default 2) each, or the compactors registered with a given {@code --memnode}.</li>
 *   <li>{@code o3}: all three layers, as O3-LSM: {@code dm-flush} (write buffer on the memory node,
 *   flushes on flush workers) plus {@code caas}'s compaction offloading to compactors, all with the
 *   same storage root. The flags of both apply.</li>
 * </ul>
 *
 * <p>Adding a mode is one entry in {@link #MODES}: its name, a check that says whether it can run
 * (and why not), and which engines support it. The engine adapters read {@code Settings.mode()} and
 * configure themselves.
 */
public final class Modes {
    /** One run mode. */
    public record Mode(String name, String description, String unavailableReason, boolean otherEnginesSupported) {
        public boolean available() {
            return unavailableReason == null;
        }
    }

    static final Map<String, Mode> MODES = new LinkedHashMap<>();

    static {
        register(new Mode("local", "embedded engine on a local directory; --local-budget is the write buffer",
                null, true));
        register(new Mode("dm", "o3 write buffer extended into disaggregated memory (--dm-budget)",
                null, false));
        register(new Mode("dm-flush", "dm plus flush offloading to flush workers (--flush-workers, --flush-placement)",
                null, false));
        register(new Mode("caas", "compaction offload only: local write buffer and flushes, compactions on compactors "
                + "(--compactors, --compactor-slots); the baseline O3 is measured against", null, false));
        register(new Mode("o3", "all three layers: dm-flush plus compaction offload (--flush-workers, --compactors)",
                null, false));
    }

    /** Whether flushes in {@code mode} run on flush workers (dm-flush, o3). */
    public static boolean offloadsFlushes(String mode) {
        return "dm-flush".equals(mode) || "o3".equals(mode);
    }

    /** Whether compactions in {@code mode} run on compactors (caas, o3). */
    public static boolean offloadsCompactions(String mode) {
        return "caas".equals(mode) || "o3".equals(mode);
    }

    /** Whether {@code mode} needs a memory node: for DM, or only for its coordinator (caas). */
    public static boolean needsMemNode(String mode) {
        return isDm(mode) || "caas".equals(mode);
    }

    /** Whether {@code mode} keeps the write buffer on a memory node (dm, dm-flush, o3). */
    public static boolean isDm(String mode) {
        return "dm".equals(mode) || offloadsFlushes(mode);
    }

    private Modes() {
    }

    public static void register(Mode m) {
        MODES.put(m.name(), m);
    }

    /** The mode called {@code name}, or null. */
    public static Mode get(String name) {
        return MODES.get(name);
    }
}
