package io.o3lsm.dm.transport;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.openucx.jucx.UcxCallback;
import org.openucx.jucx.UcxException;
import org.openucx.jucx.ucp.UcpEndpoint;
import org.openucx.jucx.ucp.UcpEndpointParams;
import org.openucx.jucx.ucp.UcpListener;
import org.openucx.jucx.ucp.UcpListenerParams;
import org.openucx.jucx.ucp.UcpMemory;
import org.openucx.jucx.ucp.UcpRemoteKey;
import org.openucx.jucx.ucp.UcpRequest;

/**
 * Spike (flush offload, docs/design/flush-offload.md section 3): can a remote key of a second
 * registration of a sub-range of a slab ({@link UcxNode#mapExisting}) confine a peer to that range,
 * and does deregistering it revoke the peer's access? Against real UCX (jucx 1.12.1, UCX 1.13.1),
 * per transport selection ({@code UCX_TLS}), across two processes (a node JVM and peer JVMs, so a
 * crash of a peer is observed, not suffered) and within one process (a child JVM running both).
 *
 * <p>The slab is filled so that every 8-byte word holds its own offset XOR a constant: a get's
 * bytes tell exactly which slab bytes were read. Each case prints one line; the findings go to
 * {@code dm/target/subrange-spike.txt}. Assertions record what was observed to hold.
 */
@EnabledIfSystemProperty(named = "tests.slow", matches = "true")
@Timeout(value = 900, unit = TimeUnit.SECONDS)
class SubRangeKeySpikeTest {
    static final long MAGIC = 0x5A5A_1234_0000_0000L;
    static final long MIB = 1 << 20;
    static final long SLAB = 128 * MIB;
    static final long SUB_OFF = 8 * MIB;
    static final long SUB_LEN = 1 * MIB;
    /**
     * The UCX environments (besides {@link UcxEnvironment#VARIABLES}): none = what production runs.
     * With UCX's registration cache on (the default, UCX_RCACHE_ENABLE=try) a registration of a
     * sub-range of a registered slab returns the slab's own registration (same address, length and
     * packed key), so the sub-range runs are made with it off as well.
     */
    static final List<String> CROSS = List.of("", "UCX_RCACHE_ENABLE=n", "UCX_TLS=tcp", "UCX_TLS=tcp UCX_RCACHE_ENABLE=n",
            "UCX_TLS=posix,tcp UCX_RCACHE_ENABLE=n", "UCX_TLS=sysv,tcp UCX_RCACHE_ENABLE=n",
            "UCX_TLS=cma,tcp UCX_RCACHE_ENABLE=n", "UCX_TLS=shm,tcp UCX_RCACHE_ENABLE=n",
            "UCX_TLS=shm,self UCX_RCACHE_ENABLE=n");
    static final List<String> LOCAL = List.of("", "UCX_RCACHE_ENABLE=n", "UCX_TLS=tcp UCX_RCACHE_ENABLE=n");

    // ---- the test (orchestrator) ----------------------------------------------------------------

    @Test
    void subRangeKeys() throws Exception {
        StringBuilder report = new StringBuilder();
        Map<String, Map<String, String>> all = new LinkedHashMap<>();
        for (String env : CROSS) {
            all.put("2 processes, " + (env.isEmpty() ? "(default UCX env)" : env), runCrossProcess(env));
        }
        for (String env : LOCAL) {
            all.put("1 process,   " + (env.isEmpty() ? "(default UCX env)" : env), runInChildJvm(env));
        }
        for (Map.Entry<String, Map<String, String>> e : all.entrySet()) {
            report.append("== ").append(e.getKey()).append('\n');
            e.getValue().forEach((k, v) -> report.append(String.format("  %-34s %s%n", k, v)));
        }
        System.out.println(report);
        Path out = Path.of("target", "subrange-spike.txt");
        Files.createDirectories(out.getParent());
        Files.writeString(out, report.toString());
        for (Map.Entry<String, Map<String, String>> e : all.entrySet()) {
            Map<String, String> r = e.getValue();
            String where = e.getKey() + ": " + r;
            // item 1: the second registration succeeds everywhere
            assertTrue(r.getOrDefault("map sub-range", "").startsWith("ok"), where);
            if (!r.getOrDefault("slab key: in sub-range (control)", "").startsWith("ok")) {
                // UCX_TLS without tcp: the client-server (sockaddr) connection cannot be made at all
                assertTrue(r.get("slab key: in sub-range (control)").contains("Destination is unreachable"), where);
                continue;
            }
            assertTrue(r.get("sub key: inside").startsWith("ok, data correct"), where);
            // items 2 and 3: nothing is refused: bytes outside the range and gets after the
            // deregistration read the slab, on every transport that connects
            for (String k : List.of("sub key: straddling end", "sub key: outside (slab start) 64 KiB",
                    "sub key after dereg (same ep)", "fresh ep: old sub key, inside")) {
                assertTrue(r.getOrDefault(k, "").startsWith("ok"), k + " in " + where);
            }
            // item 5: the slab's own key keeps working after the sub-range registration is gone
            assertTrue(r.getOrDefault("slab key after sub dereg", "").startsWith("ok, data correct"), where);
        }
    }

    /** Node in one JVM, peers in others; a peer that dies is replaced for the next case. */
    private static Map<String, String> runCrossProcess(String env) throws Exception {
        int port = freePort();
        try (Child node = new Child(env, "node", String.valueOf(port))) {
            return scenario(node, () -> new Child(env, "peer", String.valueOf(port)), new LinkedHashMap<>());
        }
    }

    /** Node and peer in one child JVM (a crash ends it: the cases after it are missing). */
    private static Map<String, String> runInChildJvm(String env) throws Exception {
        Map<String, String> r = new LinkedHashMap<>();
        try (Child c = new Child(env, "local", String.valueOf(freePort()))) {
            while (true) {
                String line = c.next(300);
                if (line == null) {
                    r.put("(child)", c.crashText());
                    break;
                }
                if (line.equals("END")) {
                    break;
                }
                int tab = line.indexOf('\t');
                r.put(line.substring(0, tab), line.substring(tab + 1));
            }
        }
        return r;
    }

    /** One side of a scenario: a node or a peer, in this JVM or another. */
    interface Driver extends AutoCloseable {
        String cmd(String line) throws Exception;

        boolean alive();

        @Override
        void close() throws Exception;
    }

    interface PeerFactory {
        Driver start() throws Exception;
    }

    /**
     * The cases. Returns case name -> observation.
     */
    static Map<String, String> scenario(Driver node, PeerFactory peers, Map<String, String> r) throws Exception {
        String[] info = node.cmd("info").split(" ");
        r.put("map sub-range", info[0].equals("ok") ? "ok (" + info[7] + " us)" : String.join(" ", info));
        if (!info[0].equals("ok")) {
            return r;
        }
        long slab = Long.parseLong(info[1]);
        String slabKey = info[3];
        long sub = Long.parseLong(info[4]);
        long subLen = Long.parseLong(info[5]);
        String subKey = info[6];
        r.put("key sizes (slab/sub bytes)", slabKey.length() / 2 + "/" + subKey.length() / 2);
        Driver[] peer = {null};
        Callable<Driver> live = () -> {
            if (peer[0] == null || !peer[0].alive()) {
                peer[0] = peers.start();
                peer[0].cmd("key slab " + slabKey);
                peer[0].cmd("key sub " + subKey);
            }
            return peer[0];
        };
        String g = " " + slab + " ";
        // cases whose bytes leave the slab may crash the node: they run last ("risky")
        List<String[]> risky = new ArrayList<>();
        Case c = (name, line) -> {
            String[] a = line.split(" ");
            long addr = Long.parseLong(a[3]);
            long len = Long.parseLong(a[4]);
            if (addr < slab || addr + len > slab + SLAB) {
                risky.add(new String[] {name, line});
                return;
            }
            Driver p = live.call();
            String res = p.cmd(line);
            r.put(name, res);
            if (res.startsWith("CRASH")) {
                p.close();
                peer[0] = null;
            }
        };
        c.run("slab key: in sub-range (control)", "get slab" + g + (sub + 4096) + " 65536");
        c.run("sub key: inside", "get sub" + g + (sub + 4096) + " 65536");
        c.run("sub key: whole range", "get sub" + g + sub + " " + subLen);
        c.run("sub key: inside, 64 B", "get sub" + g + (sub + 128) + " 64");
        c.run("sub key: straddling end", "get sub" + g + (sub + subLen - 4096) + " 8192");
        c.run("sub key: straddling start", "get sub" + g + (sub - 4096) + " 8192");
        c.run("sub key: outside (+1 MiB), 4 KiB", "get sub" + g + (sub + subLen + MIB) + " 4096");
        c.run("sub key: outside (+1 MiB), 64 B", "get sub" + g + (sub + subLen + MIB) + " 64");
        c.run("sub key: outside (slab start) 64 KiB", "get sub" + g + slab + " 65536");
        // deregistration: a peer that unpacked before keeps its keys
        Driver old = live.call();
        old.cmd("get sub" + g + (sub + 4096) + " 4096"); // the key is in use before the dereg
        r.put("node: deregister sub", node.cmd("dereg"));
        c.run("sub key after dereg (same ep)", "get sub" + g + (sub + 4096) + " 65536");
        c.run("sub key after dereg, 64 B", "get sub" + g + (sub + 128) + " 64");
        c.run("slab key after sub dereg", "get slab" + g + (sub + 4096) + " 65536");
        c.run("slab key after sub dereg (elsewhere)", "get slab" + g + (slab + 64 * MIB) + " 65536");
        old.close();
        peer[0] = null;
        // a fresh endpoint unpacks the old packed key after the deregistration
        try (Driver fresh = peers.start()) {
            r.put("fresh ep: unpack old sub key", fresh.cmd("key sub " + subKey));
            fresh.cmd("key slab " + slabKey);
            r.put("fresh ep: old sub key, inside", fresh.cmd("get sub" + g + (sub + 4096) + " 65536"));
            r.put("fresh ep: slab key", fresh.cmd("get slab" + g + (sub + 4096) + " 65536"));
        }
        r.put("timing 4 MiB (median of 20)", node.cmd("time " + 4 * MIB));
        r.put("timing 64 MiB (median of 20)", node.cmd("time " + 64 * MIB));
        // last, as they may kill the node: a fresh sub-range key, then addresses outside the slab
        String[] again = node.cmd("remap").split(" ");
        risky.add(new String[] {"sub key: outside slab (+512 MiB)", "get sub" + g + (slab + SLAB + 512 * MIB) + " 4096"});
        risky.add(new String[] {"sub key: address 0x1000", "get sub" + g + 4096 + " 64"});
        for (String[] k : risky) {
            if (!node.alive()) {
                r.put(k[0], "(not run: node dead)");
                continue;
            }
            try (Driver p = peers.start()) {
                p.cmd("key sub " + again[1]);
                String res = p.cmd(k[1]);
                Thread.sleep(300);
                r.put(k[0], res + (node.alive() ? "" : "; NODE DIED: " + ((Child) node).crashText()));
            }
        }
        r.put("node alive at the end", node.alive() ? node.cmd("ping") : "NO: " + ((Child) node).crashText());
        return r;
    }

    interface Case {
        void run(String name, String line) throws Exception;
    }

    // ---- child JVMs -----------------------------------------------------------------------------

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A child JVM speaking the line protocol: answers start with "@@ ". */
    static final class Child implements Driver {
        final Process process;
        final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
        final List<String> other = new ArrayList<>();
        final BufferedWriter in;

        Child(String env, String role, String arg) throws IOException, InterruptedException {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            ProcessBuilder pb = new ProcessBuilder(java, "-Xmx128m", "-XX:ErrorFile=/dev/null",
                    "--add-opens", "java.base/java.nio=ALL-UNNAMED",
                    "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED",
                    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-cp",
                    System.getProperty("java.class.path"), SubRangeKeySpikeTest.class.getName(), role, arg)
                    .redirectErrorStream(true);
            pb.environment().putAll(UcxEnvironment.VARIABLES);
            pb.environment().keySet().removeIf(k -> k.startsWith("UCX_") && !UcxEnvironment.VARIABLES.containsKey(k));
            for (String kv : env.trim().split(" +")) {
                if (!kv.isEmpty()) {
                    pb.environment().put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
                }
            }
            process = pb.start();
            in = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
            Thread t = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String l;
                    while ((l = r.readLine()) != null) {
                        if (l.startsWith("@@ ")) {
                            answers.add(l.substring(3));
                        } else {
                            synchronized (other) {
                                other.add(l);
                            }
                        }
                    }
                } catch (IOException ignored) {
                    // process gone
                }
            }, "spike-child-" + role);
            t.setDaemon(true);
            t.start();
            String ready = next(60);
            if (!"READY".equals(ready)) {
                throw new IllegalStateException(role + " did not start: " + ready + " " + crashText());
            }
        }

        /** The next answer, or null if the process died or nothing came within the timeout. */
        String next(int seconds) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (System.nanoTime() < deadline) {
                String a = answers.poll(100, TimeUnit.MILLISECONDS);
                if (a != null) {
                    return a;
                }
                if (!process.isAlive() && answers.isEmpty()) {
                    Thread.sleep(200); // let the reader drain the last lines
                    return answers.poll();
                }
            }
            return null;
        }

        @Override
        public String cmd(String line) throws Exception {
            if (!process.isAlive()) {
                return crashText();
            }
            try {
                in.write(line);
                in.newLine();
                in.flush();
            } catch (IOException e) {
                return crashText();
            }
            String a = next(60);
            return a != null ? a : process.isAlive() ? "HANG (no answer in 60 s)" : crashText();
        }

        String crashText() {
            try {
                process.waitFor(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            String exit = process.isAlive() ? "alive" : "exit " + process.exitValue();
            List<String> tail;
            synchronized (other) {
                tail = new ArrayList<>();
                for (String l : other) {
                    if (l.contains("SIGSEGV") || l.contains("SIGBUS") || l.contains("UCX") || l.contains("Error")
                            || l.contains("error") || l.contains("problematic frame") || l.startsWith("C  [")) {
                        tail.add(l.trim());
                    }
                }
            }
            return "CRASH (" + exit + ") " + String.join(" | ", tail.subList(Math.max(0, tail.size() - 6),
                    tail.size()));
        }

        @Override
        public boolean alive() {
            return process.isAlive();
        }

        @Override
        public void close() throws Exception {
            if (process.isAlive()) {
                try {
                    in.write("exit");
                    in.newLine();
                    in.flush();
                } catch (IOException ignored) {
                    // gone
                }
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            }
        }
    }

    /** Child JVM entry: role node|peer|local. */
    public static void main(String[] args) throws Exception {
        PrintStream out = System.out;
        String role = args[0];
        int port = Integer.parseInt(args[1]);
        if (role.equals("local")) {
            out.println("@@ READY");
            Driver node = new InProcess(new SpikeNode(port));
            // streamed as they come: a crash leaves the cases before it
            Map<String, String> r = new LinkedHashMap<>() {
                @Override
                public String put(String k, String v) {
                    out.println("@@ " + k + "\t" + v);
                    out.flush();
                    return super.put(k, v);
                }
            };
            try {
                scenario(node, () -> new InProcess(new SpikePeer(port)), r);
            } catch (Throwable t) {
                r.put("(scenario failed)", t.toString());
            } finally {
                out.println("@@ END");
                out.flush();
            }
            Runtime.getRuntime().halt(0);
        }
        Handler h = role.equals("node") ? new SpikeNode(port) : new SpikePeer(port);
        out.println("@@ READY");
        out.flush();
        BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = r.readLine()) != null && !line.equals("exit")) {
            out.println("@@ " + h.handle(line));
            out.flush();
        }
        Runtime.getRuntime().halt(0); // no orderly UCX teardown needed for a spike
    }

    interface Handler {
        String handle(String line) throws Exception;
    }

    /** In one JVM: the handler is called directly. */
    static final class InProcess implements Driver {
        final Handler h;

        InProcess(Handler h) {
            this.h = h;
        }

        @Override
        public String cmd(String line) throws Exception {
            return h.handle(line);
        }

        @Override
        public boolean alive() {
            return true;
        }

        @Override
        public void close() {
            // kept open: closing endpoints of a spike is not under test
        }
    }

    static <T> T onThread(UcxNode n, Callable<T> c) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        n.submit(() -> {
            try {
                f.complete(c.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f.get(30, TimeUnit.SECONDS);
    }

    static byte[] pack(UcpMemory m) {
        ByteBuffer rk = m.getRemoteKeyBuffer();
        byte[] b = new byte[rk.remaining()];
        rk.duplicate().get(b);
        return b;
    }

    /** The node: a slab filled with its offsets, a sub-range registration, a listener. */
    static final class SpikeNode implements Handler {
        final UcxNode n;
        UcpMemory slab;
        UcpMemory sub;
        long mapMicros;
        final List<UcpEndpoint> eps = new ArrayList<>();
        UcpListener listener;

        SpikeNode(int port) {
            n = new UcxNode("spike-node", x -> {
                slab = x.allocateMemory(SLAB);
                UnsafeBuffer b = new UnsafeBuffer(slab.getAddress(), (int) SLAB);
                for (long o = 0; o < SLAB; o += 8) {
                    b.putLong((int) o, o ^ MAGIC);
                }
                long t0 = System.nanoTime();
                sub = x.mapExisting(slab.getAddress() + SUB_OFF, SUB_LEN);
                mapMicros = (System.nanoTime() - t0) / 1000;
                listener = x.worker().newListener(new UcpListenerParams()
                        .setSockAddr(new InetSocketAddress("127.0.0.1", port))
                        .setConnectionHandler(req -> eps.add(x.worker().newEndpoint(new UcpEndpointParams()
                                .setConnectionRequest(req)
                                .setPeerErrorHandlingMode()
                                .setErrorHandler((ep, st, msg) -> System.err.println("node: peer error " + st
                                        + " " + msg))))));
            });
        }

        @Override
        public String handle(String line) throws Exception {
            String[] a = line.split(" ");
            switch (a[0]) {
                case "info":
                    return onThread(n, () -> "ok " + slab.getAddress() + " " + SLAB + " "
                            + HexFormat.of().formatHex(pack(slab)) + " " + sub.getAddress() + " " + sub.getLength()
                            + " " + HexFormat.of().formatHex(pack(sub)) + " " + mapMicros);
                case "dereg":
                    return onThread(n, () -> {
                        try {
                            sub.deregister();
                            return "ok";
                        } catch (UcxException e) {
                            return "error: " + e.getMessage();
                        }
                    });
                case "remap":
                    return onThread(n, () -> {
                        sub = n.mapExisting(slab.getAddress() + SUB_OFF, SUB_LEN);
                        return "ok " + HexFormat.of().formatHex(pack(sub));
                    });
                case "time":
                    long len = Long.parseLong(a[1]);
                    return onThread(n, () -> {
                        int reps = 20;
                        long[] map = new long[reps];
                        long[] pk = new long[reps];
                        long[] dereg = new long[reps];
                        for (int i = 0; i < reps; i++) {
                            long t0 = System.nanoTime();
                            UcpMemory m = n.mapExisting(slab.getAddress() + 32 * MIB, len);
                            long t1 = System.nanoTime();
                            pack(m);
                            long t2 = System.nanoTime();
                            m.deregister();
                            long t3 = System.nanoTime();
                            map[i] = t1 - t0;
                            pk[i] = t2 - t1;
                            dereg[i] = t3 - t2;
                        }
                        return String.format("map %.1f us, pack %.1f us, deregister %.1f us", median(map) / 1e3,
                                median(pk) / 1e3, median(dereg) / 1e3);
                    });
                case "ping":
                    return onThread(n, () -> "ok (node alive, progress thread answers)");
                default:
                    return "unknown " + line;
            }
        }

        static long median(long[] v) {
            long[] s = v.clone();
            Arrays.sort(s);
            return s[s.length / 2];
        }
    }

    /** A peer: one endpoint to the node, unpacked keys, gets classified by what they read. */
    static final class SpikePeer implements Handler {
        final UcxNode n;
        final UcpEndpoint ep;
        final Map<String, UcpRemoteKey> keys = new LinkedHashMap<>();
        volatile String epError;

        SpikePeer(int port) throws Exception {
            n = new UcxNode("spike-peer", x -> {
            });
            ep = onThread(n, () -> n.worker().newEndpoint(new UcpEndpointParams()
                    .setSocketAddress(new InetSocketAddress("127.0.0.1", port))
                    .setPeerErrorHandlingMode()
                    .setErrorHandler((e, st, msg) -> epError = "endpoint error " + st + ": " + msg)));
        }

        @Override
        public String handle(String line) throws Exception {
            String[] a = line.split(" ");
            switch (a[0]) {
                case "key": {
                    byte[] packed = HexFormat.of().parseHex(a[2]);
                    return onThread(n, () -> {
                        ByteBuffer bb = ByteBuffer.allocateDirect(packed.length);
                        bb.put(packed).flip();
                        try {
                            keys.put(a[1], ep.unpackRemoteKey(bb));
                            return "ok (unpacked)";
                        } catch (UcxException e) {
                            return "error: " + e.getMessage();
                        }
                    });
                }
                case "get":
                    return get(keys.get(a[1]), Long.parseLong(a[2]), Long.parseLong(a[3]), Integer.parseInt(a[4]));
                default:
                    return "unknown " + line;
            }
        }

        String get(UcpRemoteKey key, long base, long addr, int len) throws Exception {
            ByteBuffer dst = ByteBuffer.allocateDirect(len).order(ByteOrder.nativeOrder());
            for (int i = 0; i < len; i++) {
                dst.put(i, (byte) 0xEE);
            }
            long local = BufferUtil.address(dst);
            CompletableFuture<String> f = new CompletableFuture<>();
            n.submit(() -> {
                try {
                    ep.getNonBlocking(addr, key, local, len, new UcxCallback() {
                        @Override
                        public void onSuccess(UcpRequest request) {
                            f.complete("ok");
                        }

                        @Override
                        public void onError(int status, String msg) {
                            f.complete("error (status " + status + ": " + msg + ")");
                        }
                    });
                } catch (Throwable e) {
                    f.complete("exception: " + e);
                }
            });
            String res;
            try {
                res = f.get(10, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                res = "no completion within 10 s";
            }
            String err = epError != null ? " [" + epError + "]" : "";
            if (!res.equals("ok")) {
                return res + err;
            }
            long off = addr - base;
            if (off < 0 || off + len > SLAB) {
                return "ok, read " + len + " bytes outside the slab (first word 0x"
                        + Long.toHexString(dst.getLong(0)) + ")" + err;
            }
            int wrong = 0;
            int untouched = 0;
            for (int i = 0; i + 8 <= len; i += 8) {
                long v = dst.getLong(i);
                if (v == 0xEEEEEEEEEEEEEEEEL) {
                    untouched++;
                } else if (v != ((off + i) ^ MAGIC)) {
                    wrong++;
                }
            }
            if (wrong == 0 && untouched == 0) {
                return "ok, data correct (the slab's bytes at that offset)" + err;
            }
            return "ok, but " + wrong + " wrong and " + untouched + " untouched words of " + len / 8 + err;
        }
    }
}
