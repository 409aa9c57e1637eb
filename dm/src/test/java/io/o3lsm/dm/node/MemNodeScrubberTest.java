package io.o3lsm.dm.node;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.dm.MemNodeProcess;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The scrubber's schedule survives anything a tick throws, Errors included. */
@Tag("dm")
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MemNodeScrubberTest {
    @Test
    void scrubberKeepsRunningAfterATickThrowsAnError() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        NodeLog log = new NodeLog(new PrintStream(out, true, StandardCharsets.UTF_8));
        MemNodeServer.Config config = new MemNodeServer.Config(
                new InetSocketAddress("127.0.0.1", MemNodeProcess.freePort()), 1 << 20,
                "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8), 0, 1 << 20, Duration.ZERO,
                1 << 20);
        try (MemNodeServer server = new MemNodeServer(config, log)) {
            AtomicInteger ticks = new AtomicInteger();
            CountDownLatch later = new CountDownLatch(3);
            server.scrubProbeForTest = () -> {
                if (ticks.getAndIncrement() == 0) {
                    throw new StackOverflowError("injected into a scrubber tick");
                }
                later.countDown();
            };
            // three more ticks after the Error (a tick every 100 ms; the deadline only bounds a failure)
            assertTrue(later.await(30, TimeUnit.SECONDS), "the scrubber stopped after an Error");
        }
        String logged = out.toString(StandardCharsets.UTF_8);
        assertTrue(logged.contains("injected into a scrubber tick"), logged);
    }
}
