package io.o3lsm.dm.replication;

import static io.o3lsm.dm.replication.ReplicationFixtures.await;
import static io.o3lsm.dm.replication.ReplicationFixtures.primaryLive;
import static io.o3lsm.dm.replication.ReplicationFixtures.record;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.dm.protocol.BodyWriter;
import io.o3lsm.dm.protocol.MessageHeaderDescriptor;
import io.o3lsm.dm.replication.ReplicationFixtures.FakeSource;
import io.o3lsm.dm.replication.ReplicationFixtures.FakeTarget;
import io.o3lsm.dm.transport.FrameReceiver;
import io.o3lsm.dm.transport.FrameSender;
import io.o3lsm.dm.transport.UcxNode;
import io.o3lsm.spi.Replication;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.agrona.DirectBuffer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openucx.jucx.ucp.UcpConstants;
import org.openucx.jucx.ucp.UcpEndpoint;
import org.openucx.jucx.ucp.UcpEndpointParams;

/** Authentication, hostile peers and release of resources; real UCX in this JVM. */
@Tag("dm")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReplicationHandshakeTest extends ReplicationTestBase {

    @Test
    void shouldRefuseABackupWithAWrongSecretAndServeOthers() throws Exception {
        FakeSource src = new FakeSource();
        Replication.Primary p = track(ReplicationFixtures.primary(dir, Duration.ofSeconds(2), src));
        FakeTarget bad = new FakeTarget();
        ReplicationBackup intruder = track(ReplicationFixtures.backup(p.address(),
                "another-secret-of-32-bytes......".getBytes(StandardCharsets.UTF_8), "intruder", bad));
        await("the intruder is told why", 20_000, () -> intruder.lastFailure().contains("HMAC mismatch"));
        assertTrue(intruder.lastFailure().contains("cluster secret differs"), intruder.lastFailure());
        assertEquals(0, bad.accepted.get(), "the intruder never got as far as judging the primary");
        assertEquals(0, src.catchUps.get(), "nothing served before authentication");
        assertTrue(p.backups().isEmpty());
        FakeTarget good = new FakeTarget();
        ReplicationBackup b = track(ReplicationFixtures.backup(p, "good", good));
        await("the right secret is served", 20_000, () -> b.live() && primaryLive(p, "good"));
        assertTrue(!intruder.live());
    }

    /** A raw UCX peer speaking to the primary: sends frames as given, collects the primary's answers. */
    private static final class RawPeer implements AutoCloseable {
        final UcxNode node;
        final FrameSender sender = new FrameSender();
        final LinkedBlockingQueue<String> answers = new LinkedBlockingQueue<>();
        final LinkedBlockingQueue<byte[]> bodies = new LinkedBlockingQueue<>();
        UcpEndpoint ep;

        RawPeer(String address) throws Exception {
            node = new UcxNode("test-raw-peer", n -> n.worker().setAmRecvHandler(ReplProtocol.AM_TO_BACKUP,
                    new FrameReceiver(new FrameReceiver.FrameHandler() {
                        @Override
                        public void onFrame(UcpEndpoint replyEp, int opcode, int status, long requestId,
                                DirectBuffer body, int length) {
                            byte[] b = new byte[length];
                            body.getBytes(0, b);
                            if (opcode == ReplProtocol.HEARTBEAT) {
                                return;
                            }
                            bodies.add(b);
                            answers.add(ReplProtocol.opcodeName(opcode) + " " + ReplProtocol.statusName(status) + " "
                                    + requestId + " " + new String(b, StandardCharsets.UTF_8));
                        }

                        @Override
                        public void onMalformed(UcpEndpoint replyEp, long requestId, int opcode, int status,
                                String problem) {
                            answers.add("malformed " + problem);
                        }
                    }, ReplProtocol.VERSION)));
            java.util.concurrent.CompletableFuture<Void> f = new java.util.concurrent.CompletableFuture<>();
            java.net.InetSocketAddress to = ReplicationPrimary.parse(address);
            node.submit(() -> {
                ep = node.worker().newEndpoint(new UcpEndpointParams()
                        .setSocketAddress(to).setPeerErrorHandlingMode()
                        .setErrorHandler((e, st, msg) -> answers.add("peer error " + msg)));
                f.complete(null);
            });
            f.get(10, TimeUnit.SECONDS);
        }

        void send(int version, int opcode, long requestId, byte[] body) {
            node.submit(() -> sender.send(ep, ReplProtocol.AM_TO_PRIMARY, version, opcode, 0, requestId,
                    new org.agrona.concurrent.UnsafeBuffer(body), 0, body.length, UcpConstants.UCP_AM_SEND_FLAG_REPLY,
                    null));
        }

        String answer() throws InterruptedException {
            String a = answers.poll(10, TimeUnit.SECONDS);
            assertNotNull(a, "the primary answered");
            return a;
        }

        @Override
        public void close() {
            node.close();
        }
    }

    @Test
    void shouldAnswerMalformedMessagesWithErrorsAndKeepServingOthers() throws Exception {
        FakeSource src = new FakeSource();
        Replication.Primary p = track(ReplicationFixtures.primary(dir, Duration.ofSeconds(2), src));
        RawPeer raw = track(new RawPeer(p.address()));
        raw.send(MessageHeaderDescriptor.PROTOCOL_VERSION, ReplProtocol.HELLO, 1, new byte[40]); // a DM peer
        assertTrue(raw.answer().startsWith("ERROR UNSUPPORTED_VERSION 1 expected protocol version "
                + ReplProtocol.VERSION + ", found "
                + MessageHeaderDescriptor.PROTOCOL_VERSION));
        raw.send(ReplProtocol.VERSION, ReplProtocol.ATTACH, 2, new byte[8]);
        assertTrue(raw.answer().startsWith("ERROR NOT_AUTHENTICATED 2 ATTACH before the handshake"));
        raw.send(ReplProtocol.VERSION, ReplProtocol.CONSUMED, 3, new byte[8]);
        assertTrue(raw.answer().startsWith("ERROR NOT_AUTHENTICATED 3"));
        raw.send(ReplProtocol.VERSION, 99, 4, new byte[0]);
        assertTrue(raw.answer().startsWith("ERROR NOT_AUTHENTICATED 4"));
        raw.send(ReplProtocol.VERSION, ReplProtocol.HELLO, 41, new byte[1 << 20]); // no allocation for a stranger
        String big = raw.answer();
        assertTrue(big.startsWith("ERROR BAD_REQUEST 41") && big.contains("before authentication"), big);
        raw.send(ReplProtocol.VERSION, ReplProtocol.HELLO, 5, new byte[7]); // too short for a nonce
        String a = raw.answer();
        assertTrue(a.startsWith("ERROR BAD_REQUEST 5 HELLO: expected 32 bytes for backup-nonce"), a);
        byte[] hello = new ReplMessages.Hello(new byte[32], "raw").encode(new BodyWriter()).toByteArray();
        raw.send(ReplProtocol.VERSION, ReplProtocol.HELLO, 6, hello);
        assertTrue(raw.answer().startsWith("CHALLENGE OK 6"));
        raw.send(ReplProtocol.VERSION, ReplProtocol.HELLO, 7, hello);
        assertTrue(raw.answer().startsWith("ERROR BAD_REQUEST 7 HELLO twice"));
        raw.send(ReplProtocol.VERSION, ReplProtocol.AUTH, 8, new byte[32]); // a guess
        a = raw.answer();
        assertTrue(a.startsWith("ERROR AUTH_FAILED") && a.contains("HMAC mismatch"), a);
        // authenticated, then hostile: a malformed ATTACH is refused and that connection closed
        RawPeer raw2 = track(new RawPeer(p.address()));
        byte[] nonce = new byte[32];
        raw2.send(ReplProtocol.VERSION, ReplProtocol.HELLO, 1, new ReplMessages.Hello(nonce, "raw2")
                .encode(new BodyWriter()).toByteArray());
        assertTrue(raw2.answer().startsWith("CHALLENGE OK 1"));
        byte[] cb = raw2.bodies.take();
        ReplMessages.Challenge c = ReplMessages.Challenge.decode(new org.agrona.concurrent.UnsafeBuffer(cb), 0, cb.length);
        raw2.send(ReplProtocol.VERSION, ReplProtocol.AUTH, 2, io.o3lsm.dm.protocol.HandshakeMac.replicationBackup(
                ReplicationFixtures.SECRET, c.primaryNonce(), nonce, c.epoch(), c.dbId()));
        assertTrue(raw2.answer().startsWith("WELCOME OK 2"));
        raw2.send(ReplProtocol.VERSION, ReplProtocol.ATTACH, 3, new byte[] {1, 0, 0, 0, 5, 0}); // string length 5, no bytes
        a = raw2.answer();
        assertTrue(a.startsWith("ERROR BAD_REQUEST 3 ATTACH: expected 5 bytes for db-id"), a);
        raw2.send(ReplProtocol.VERSION, 77, 4, new byte[0]);
        a = raw2.answer();
        assertTrue(a.startsWith("ERROR BAD_REQUEST 4 unknown opcode 77"), a);
        // the primary still serves a real backup, and its log
        FakeTarget t = new FakeTarget();
        ReplicationBackup b = track(ReplicationFixtures.backup(p, "b1", t));
        await("backup live", 20_000, () -> b.live() && primaryLive(p, "b1"));
        long ticket;
        synchronized (src.walLock) {
            byte[] r = record(1, 100);
            ticket = p.publish(1, List.of(r), new int[] {r.length});
        }
        p.awaitAcks(ticket, 1);
        await("record applied", 10_000, () -> t.recordCount() == 1);
    }

    @Test
    void shouldLeaveNoThreadRunningAfterClose() throws Exception {
        FakeSource src = new FakeSource();
        Replication.Primary p = ReplicationFixtures.primary(dir, Duration.ofSeconds(2), src);
        FakeTarget t1 = new FakeTarget();
        FakeTarget t2 = new FakeTarget();
        ReplicationBackup b1 = ReplicationFixtures.backup(p, "b1", t1);
        ReplicationBackup b2 = ReplicationFixtures.backup(p, "b2", t2);
        await("backups live", 20_000, () -> b1.live() && b2.live());
        synchronized (src.walLock) {
            byte[] r = record(1, 100);
            p.awaitAcks(p.publish(1, List.of(r), new int[] {r.length}), 2);
        }
        b1.close();
        p.close();
        p.close(); // idempotent
        await("b2 notices the primary is gone", 20_000, () -> !b2.live());
        b2.close();
        b2.close();
        await("no replication thread left", 10_000, () -> ReplicationFixtures.replicationThreads().isEmpty());
    }

    @Test
    void shouldFailToListenOnAPortTakenWithAClearError() throws Exception {
        FakeSource src = new FakeSource();
        Replication.Primary p = track(ReplicationFixtures.primary(dir, Duration.ofSeconds(1), src));
        java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> new UcxReplicationProvider().listen(new Replication.PrimaryConfig(p.address(),
                        ReplicationFixtures.SECRET, "db-2", 1, io.o3lsm.spi.FileSystem.local(), dir, Duration.ofSeconds(1)),
                        src));
        assertTrue(e.getMessage().contains("cannot listen for backups at " + p.address()), e.getMessage());
    }
}
