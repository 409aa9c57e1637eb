package io.o3lsm.dm.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class MessagesTest {
    /** Header + body, as they travel (header = AM header, body = AM data). */
    static byte[] frame(int opcode, int status, long requestId, BodyWriter body) {
        UnsafeBuffer h = new UnsafeBuffer(new byte[MessageHeaderDescriptor.LENGTH + body.length()]);
        MessageHeaderDescriptor.write(h, 0, opcode, status, body.length(), requestId);
        h.putBytes(MessageHeaderDescriptor.LENGTH, body.buffer(), 0, body.length());
        return h.byteArray();
    }

    static byte[] getRequestExample() {
        return frame(Opcode.GET, 0, 42, new Messages.Get(5, "cat".getBytes(StandardCharsets.US_ASCII), new long[] {7, 3})
                .encode(new BodyWriter()));
    }

    static byte[] getResponseExample() {
        return frame(Opcode.GET, Status.OK, 42, new Messages.GetResult(1, 1, 1, "meow".getBytes(StandardCharsets.US_ASCII))
                .encode(new BodyWriter()));
    }

    static byte[] errorResponseExample() {
        return frame(Opcode.GET, Status.ACCESS_DENIED, 43,
                new BodyWriter().bytes("segment 9 belongs to another DB".getBytes(StandardCharsets.UTF_8)));
    }

    static byte[] jobReadExample() {
        return frame(Opcode.JOB_READ, 0, 77, new Messages.JobRead(0x1234, 1, 8 << 20, 4 << 20).encode(new BodyWriter()));
    }

    /** A compaction job (kind 2): no segments, start level 1, score 1.5, spec {1, 2, 3}; request 78. */
    static byte[] compactionSubmitExample() {
        return frame(Opcode.JOB_SUBMIT, 0, 78, new Messages.JobSubmit(Messages.KIND_COMPACTION, 9, 1, 0, 0, 0, 600_000,
                1, 1.5, new long[0], new byte[] {1, 2, 3}).encode(new BodyWriter()));
    }

    /** A compactor's poll: 2 slots, 1 running, load 250/1000, 1 MiB/s written, wait 500 ms, kinds = compaction; request 79. */
    static byte[] compactorPollExample() {
        return frame(Opcode.WORKER_POLL, 0, 79, new Messages.WorkerPoll(2, 1, 250, 1 << 20, 500,
                Messages.kindBit(Messages.KIND_COMPACTION)).encode(new BodyWriter()));
    }

    /** MULTI_GET request 44 at snapshot 5: `cat` in segments 7 and 3, `dog` in none. */
    static byte[] multiGetRequestExample() {
        return frame(Opcode.MULTI_GET, 0, 44, new Messages.MultiGet(5, List.of(
                new Messages.KeyGet("cat".getBytes(StandardCharsets.US_ASCII), new long[] {7, 3}),
                new Messages.KeyGet("dog".getBytes(StandardCharsets.US_ASCII), new long[0]))).encode(new BodyWriter()));
    }

    /** Its answer: `cat` = `meow` from candidate 1 at sequence 1; `dog` not found. */
    static byte[] multiGetResponseExample() {
        return frame(Opcode.MULTI_GET, 0, 44, new Messages.MultiGetResult(List.of(
                new Messages.GetResult(1, 1, 1, "meow".getBytes(StandardCharsets.US_ASCII)),
                new Messages.GetResult(0, -1, 0, null))).encode(new BodyWriter()));
    }

    /** Hex dump in the doc's format: offset, 16 bytes, ASCII. */
    static String dump(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (int off = 0; off < b.length; off += 16) {
            sb.append(String.format("%4d ", off));
            StringBuilder ascii = new StringBuilder();
            for (int i = 0; i < 16; i++) {
                if (i == 8) {
                    sb.append(' ');
                }
                if (off + i < b.length) {
                    int v = b[off + i] & 0xFF;
                    sb.append(String.format(" %02x", v));
                    ascii.append(v >= 32 && v < 127 ? (char) v : '.');
                } else {
                    sb.append("   ");
                }
            }
            sb.append("  |").append(ascii).append("|\n");
        }
        return sb.toString();
    }

    /** The bytes of the dump following {@code <!-- bytes:name -->} in the spec. */
    static byte[] fromSpec(String spec, String name) {
        int at = spec.indexOf("<!-- bytes:" + name + " -->");
        assertTrue(at >= 0, "spec lacks example " + name);
        int start = spec.indexOf("```", at);
        int end = spec.indexOf("```", start + 3);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String line : spec.substring(spec.indexOf('\n', start) + 1, end).split("\n")) {
            String hex = line.contains("|") ? line.substring(0, line.indexOf('|')) : line;
            String[] tok = hex.trim().split("\\s+");
            for (int i = 1; i < tok.length; i++) { // tok[0] is the offset
                out.write(Integer.parseInt(tok[i], 16));
            }
        }
        return out.toByteArray();
    }

    static Path spec() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("docs/format/dm-protocol.md"))) {
            p = p.getParent();
        }
        assertTrue(p != null, "docs/format/dm-protocol.md not found above " + Path.of("").toAbsolutePath());
        return p.resolve("docs/format/dm-protocol.md");
    }

    @Test
    void shouldMatchWorkedExamplesInProtocolSpec() throws Exception {
        String spec = Files.readString(spec());
        assertEquals(dump(getRequestExample()), dump(fromSpec(spec, "get-request")), "GET request example");
        assertEquals(dump(getResponseExample()), dump(fromSpec(spec, "get-response")), "GET response example");
        assertEquals(dump(errorResponseExample()), dump(fromSpec(spec, "error-response")), "error response example");
        assertEquals(dump(jobReadExample()), dump(fromSpec(spec, "job-read-request")), "JOB_READ request example");
        assertEquals(dump(compactionSubmitExample()), dump(fromSpec(spec, "compaction-submit-request")),
                "compaction JOB_SUBMIT example");
        assertEquals(dump(compactorPollExample()), dump(fromSpec(spec, "compactor-poll-request")),
                "compactor WORKER_POLL example");
        assertEquals(dump(multiGetRequestExample()), dump(fromSpec(spec, "multi-get-request")), "MULTI_GET request example");
        assertEquals(dump(multiGetResponseExample()), dump(fromSpec(spec, "multi-get-response")),
                "MULTI_GET response example");
    }

    /** Prints the examples for the spec: {@code java ... MessagesTest}. */
    public static void main(String[] args) {
        System.out.println(dump(getRequestExample()));
        System.out.println(dump(getResponseExample()));
        System.out.println(dump(errorResponseExample()));
        System.out.println(dump(jobReadExample()));
        System.out.println(dump(compactionSubmitExample()));
        System.out.println(dump(compactorPollExample()));
        System.out.println(dump(multiGetRequestExample()));
        System.out.println(dump(multiGetResponseExample()));
    }

    @Test
    void shouldRoundTripMultiGetAndRefuseBadCountsAndShortBodies() throws Exception {
        byte[] req = multiGetRequestExample();
        UnsafeBuffer body = new UnsafeBuffer(req, 16, req.length - 16);
        Messages.MultiGet q = Messages.MultiGet.decode(body, 0, body.capacity());
        assertEquals(5, q.snapshotSequence());
        assertEquals(2, q.keys().size());
        assertArrayEquals(new long[] {7, 3}, q.keys().get(0).segments());
        assertEquals(0, q.keys().get(1).segments().length);
        assertEquals(body.capacity(), Messages.MultiGet.encodedLength(q.keys()));
        // no keys; too many keys; a candidate count past 4096; a short body claiming many candidates
        for (byte[] bad : new byte[][] {
                new Messages.MultiGet(1, List.of()).encode(new BodyWriter()).toByteArray(),
                new BodyWriter().i64(1).i32(Messages.MAX_MULTI_GET_KEYS + 1).toByteArray(),
                new BodyWriter().i64(1).i32(1).lengthPrefixed(new byte[1]).i32(Messages.MAX_CANDIDATES + 1).toByteArray(),
                new BodyWriter().i64(1).i32(1).lengthPrefixed(new byte[1]).i32(4000).i64(1).toByteArray(),
                new BodyWriter().i64(-1).i32(1).lengthPrefixed(new byte[1]).i32(0).toByteArray(),
                java.util.Arrays.copyOf(body.byteArray(), 10)}) {
            assertThrows(MalformedMessageException.class, () -> Messages.MultiGet.decode(new UnsafeBuffer(bad), 0, bad.length));
        }
        // more than 65536 candidates over all keys
        BodyWriter many = new BodyWriter().i64(1).i32(17);
        for (int k = 0; k < 17; k++) {
            many.lengthPrefixed(new byte[1]).i32(Messages.MAX_CANDIDATES);
            for (int c = 0; c < Messages.MAX_CANDIDATES; c++) {
                many.i64(c);
            }
        }
        MalformedMessageException tooMany = assertThrows(MalformedMessageException.class,
                () -> Messages.MultiGet.decode(many.buffer(), 0, many.length()));
        assertTrue(tooMany.getMessage().contains("65536"), tooMany.getMessage());

        byte[] resp = multiGetResponseExample();
        Messages.MultiGetResult r = Messages.MultiGetResult.decode(new UnsafeBuffer(resp, 16, resp.length - 16), 0,
                resp.length - 16, 2);
        assertEquals(2, r.results().size());
        assertArrayEquals("meow".getBytes(StandardCharsets.US_ASCII), r.results().get(0).value());
        assertNull(r.results().get(1).value());
        // more results than keys asked, none, a bad state
        assertThrows(MalformedMessageException.class, () -> Messages.MultiGetResult.decode(
                new UnsafeBuffer(resp, 16, resp.length - 16), 0, resp.length - 16, 1));
        byte[] none = new BodyWriter().i32(0).toByteArray();
        assertThrows(MalformedMessageException.class, () -> Messages.MultiGetResult.decode(new UnsafeBuffer(none), 0, 4, 1));
        // state 3 (a merge operand, protocol 6) is a state; 4 is not
        byte[] merge = new Messages.MultiGetResult(List.of(new Messages.GetResult(3, 0, 1, new byte[] {7})))
                .encode(new BodyWriter()).toByteArray();
        Messages.GetResult m = Messages.MultiGetResult.decode(new UnsafeBuffer(merge), 0, merge.length, 1).results().get(0);
        assertEquals(3, m.state());
        assertArrayEquals(new byte[] {7}, m.value());
        byte[] badState = new Messages.MultiGetResult(List.of(new Messages.GetResult(4, 0, 1, null))).encode(new BodyWriter())
                .toByteArray();
        assertThrows(MalformedMessageException.class,
                () -> Messages.MultiGetResult.decode(new UnsafeBuffer(badState), 0, badState.length, 1));
    }

    @Test
    void shouldRoundTripJobMessagesAndRefuseBadOnes() throws Exception {
        byte[] nonce = new byte[32];
        BodyWriter w = new Messages.Hello(0, 0, nonce, "worker-1", Messages.ROLE_WORKER).encode(new BodyWriter());
        assertEquals(Messages.ROLE_WORKER, Messages.Hello.decode(w.buffer(), 0, w.length()).role());
        BodyWriter badRole = new Messages.Hello(0, 0, nonce, "w", 7).encode(new BodyWriter());
        assertThrows(MalformedMessageException.class, () -> Messages.Hello.decode(badRole.buffer(), 0, badRole.length()));

        w = new Messages.JobSubmit(1, 5, 2, Messages.JOB_ALWAYS, 750, 1 << 20, 60_000, new long[] {11, 12},
                new byte[] {9, 8}).encode(new BodyWriter());
        Messages.JobSubmit js = Messages.JobSubmit.decode(w.buffer(), 0, w.length());
        assertEquals(5, js.jobId());
        assertEquals(2, js.attempt());
        assertEquals(750, js.ownerLoad());
        assertArrayEquals(new long[] {11, 12}, js.segments());
        assertArrayEquals(new byte[] {9, 8}, js.spec());
        BodyWriter overloaded = new Messages.JobSubmit(1, 5, 1, 0, 1001, 0, 1000, new long[] {1}, new byte[0])
                .encode(new BodyWriter());
        assertThrows(MalformedMessageException.class,
                () -> Messages.JobSubmit.decode(overloaded.buffer(), 0, overloaded.length()));
        BodyWriter noInputs = new Messages.JobSubmit(1, 5, 1, 0, 0, 0, 1000, new long[0], new byte[0])
                .encode(new BodyWriter());
        assertThrows(MalformedMessageException.class,
                () -> Messages.JobSubmit.decode(noInputs.buffer(), 0, noInputs.length()));
        BodyWriter noDeadline = new Messages.JobSubmit(1, 5, 1, 0, 0, 0, 0, new long[] {1}, new byte[0])
                .encode(new BodyWriter());
        assertThrows(MalformedMessageException.class,
                () -> Messages.JobSubmit.decode(noDeadline.buffer(), 0, noDeadline.length()));

        w = new Messages.JobOutcome(true, "w1", "", new byte[] {1, 2, 3}).encode(new BodyWriter());
        Messages.JobOutcome jo = Messages.JobOutcome.decode(w.buffer(), 0, w.length());
        assertTrue(jo.placed());
        assertEquals("w1", jo.worker());
        assertArrayEquals(new byte[] {1, 2, 3}, jo.result());

        w = new Messages.WorkerPoll(2, 1, 300, 1 << 20, 500).encode(new BodyWriter());
        assertEquals(new Messages.WorkerPoll(2, 1, 300, 1 << 20, 500), Messages.WorkerPoll.decode(w.buffer(), 0, w.length()));
        BodyWriter longWait = new Messages.WorkerPoll(2, 1, 300, 0, Messages.MAX_POLL_WAIT_MS + 1).encode(new BodyWriter());
        assertThrows(MalformedMessageException.class, () -> Messages.WorkerPoll.decode(longWait.buffer(), 0, longWait.length()));

        Messages.JobOffer offer = new Messages.JobOffer(99, 1, "db-a", 4, 5, 1, 60_000,
                List.of(new Messages.JobSegment(11, 4096, 0x1234, 2, 10, 20)), new byte[] {7});
        w = new Messages.PollAnswer(List.of(offer), new long[] {98}).encode(new BodyWriter());
        Messages.PollAnswer pa = Messages.PollAnswer.decode(w.buffer(), 0, w.length());
        assertEquals(1, pa.offers().size());
        assertEquals(99, pa.offers().get(0).handle());
        assertEquals("db-a", pa.offers().get(0).dbId());
        assertEquals(new Messages.JobSegment(11, 4096, 0x1234, 2, 10, 20), pa.offers().get(0).segments().get(0));
        assertArrayEquals(new long[] {98}, pa.cancelled());

        w = new Messages.JobRead(99, 0, 0, 4096).encode(new BodyWriter());
        assertEquals(new Messages.JobRead(99, 0, 0, 4096), Messages.JobRead.decode(w.buffer(), 0, w.length()));
        BodyWriter hugeRead = new Messages.JobRead(99, 0, 0, Messages.MAX_JOB_READ + 1).encode(new BodyWriter());
        assertThrows(MalformedMessageException.class, () -> Messages.JobRead.decode(hugeRead.buffer(), 0, hugeRead.length()));
        BodyWriter negative = new Messages.JobRead(99, 0, -1, 10).encode(new BodyWriter());
        assertThrows(MalformedMessageException.class, () -> Messages.JobRead.decode(negative.buffer(), 0, negative.length()));

        w = new Messages.JobDone(99, false, "boom".getBytes(StandardCharsets.UTF_8)).encode(new BodyWriter());
        Messages.JobDone jd = Messages.JobDone.decode(w.buffer(), 0, w.length());
        assertEquals(99, jd.handle());
        assertTrue(!jd.ok());
    }

    @Test
    void shouldCarryCompactionJobsWithoutSegmentsAndTheirQueueKeys() throws Exception {
        BodyWriter w = new Messages.JobSubmit(Messages.KIND_COMPACTION, 9, 2, 0, 0, 0, 60_000, 3, 0.75, new long[0],
                new byte[] {5}).encode(new BodyWriter());
        Messages.JobSubmit js = Messages.JobSubmit.decode(w.buffer(), 0, w.length());
        assertEquals(Messages.KIND_COMPACTION, js.kind());
        assertEquals(3, js.startLevel());
        assertEquals(0.75, js.score());
        assertEquals(0, js.segments().length);
        // a compaction naming segments, a negative, infinite or NaN score, a level past 63: refused
        for (Messages.JobSubmit bad : List.of(
                new Messages.JobSubmit(2, 9, 1, 0, 0, 0, 1000, 1, 1, new long[] {4}, new byte[0]),
                new Messages.JobSubmit(2, 9, 1, 0, 0, 0, 1000, 1, -1, new long[0], new byte[0]),
                new Messages.JobSubmit(2, 9, 1, 0, 0, 0, 1000, 1, Double.POSITIVE_INFINITY, new long[0], new byte[0]),
                new Messages.JobSubmit(2, 9, 1, 0, 0, 0, 1000, 1, Double.NaN, new long[0], new byte[0]),
                new Messages.JobSubmit(2, 9, 1, 0, 0, 0, 1000, 64, 1, new long[0], new byte[0]),
                new Messages.JobSubmit(2, 9, 1, 0, 0, 0, 1000, -1, 1, new long[0], new byte[0]),
                // a flush with a start level or a score, or an unknown kind
                new Messages.JobSubmit(1, 9, 1, 0, 0, 0, 1000, 1, 0, new long[] {4}, new byte[0]),
                new Messages.JobSubmit(1, 9, 1, 0, 0, 0, 1000, 0, 2, new long[] {4}, new byte[0]),
                new Messages.JobSubmit(3, 9, 1, 0, 0, 0, 1000, 0, 0, new long[0], new byte[0]))) {
            BodyWriter b = bad.encode(new BodyWriter());
            assertThrows(MalformedMessageException.class, () -> Messages.JobSubmit.decode(b.buffer(), 0, b.length()),
                    bad.toString());
        }

        w = new Messages.WorkerPoll(2, 0, 0, 0, 500, Messages.ALL_KINDS).encode(new BodyWriter());
        Messages.WorkerPoll p = Messages.WorkerPoll.decode(w.buffer(), 0, w.length());
        assertTrue(p.runs(Messages.KIND_FLUSH) && p.runs(Messages.KIND_COMPACTION));
        assertTrue(new Messages.WorkerPoll(1, 0, 0, 0, 0).runs(Messages.KIND_FLUSH), "a flush worker's poll");
        assertTrue(!new Messages.WorkerPoll(1, 0, 0, 0, 0).runs(Messages.KIND_COMPACTION));
        for (int kinds : new int[] {0, 4, -1}) {
            BodyWriter b = new Messages.WorkerPoll(1, 0, 0, 0, 0, kinds).encode(new BodyWriter());
            assertThrows(MalformedMessageException.class, () -> Messages.WorkerPoll.decode(b.buffer(), 0, b.length()),
                    "kinds " + kinds);
        }

        // an offered compaction names no segments; an offered flush must name some
        Messages.JobOffer offer = new Messages.JobOffer(5, Messages.KIND_COMPACTION, "db", 1, 9, 1, 60_000, List.of(),
                new byte[] {1});
        w = new Messages.PollAnswer(List.of(offer), new long[0]).encode(new BodyWriter());
        assertEquals(0, Messages.PollAnswer.decode(w.buffer(), 0, w.length()).offers().get(0).segments().size());
        BodyWriter flushWithout = new Messages.PollAnswer(List.of(new Messages.JobOffer(5, Messages.KIND_FLUSH, "db", 1,
                9, 1, 60_000, List.of(), new byte[] {1})), new long[0]).encode(new BodyWriter());
        assertThrows(MalformedMessageException.class,
                () -> Messages.PollAnswer.decode(flushWithout.buffer(), 0, flushWithout.length()));
    }

    @Test
    void shouldRoundTripEveryMessage() throws Exception {
        byte[] nonce = new byte[32];
        new Random(1).nextBytes(nonce);
        BodyWriter w = new Messages.Hello(3, 1 << 30, nonce, "db-1").encode(new BodyWriter());
        Messages.Hello h = Messages.Hello.decode(w.buffer(), 0, w.length());
        assertEquals(3, h.epoch());
        assertEquals(1 << 30, h.dmBudget());
        assertArrayEquals(nonce, h.clientNonce());
        assertEquals("db-1", h.dbId());

        w = new Messages.Welcome(nonce, 100, 50, 10, List.of(new Messages.Slab(0x1000, 4096, new byte[] {1, 2, 3})))
                .encode(new BodyWriter());
        Messages.Welcome wel = Messages.Welcome.decode(w.buffer(), 0, w.length());
        assertEquals(1, wel.slabs().size());
        assertArrayEquals(new byte[] {1, 2, 3}, wel.slabs().get(0).rkey());
        assertEquals(0x1000, wel.slabs().get(0).address());

        w = new Messages.Commit(9, 2, 188, 0x2fbc1be5, 1, 2).encode(new BodyWriter());
        assertEquals(new Messages.Commit(9, 2, 188, 0x2fbc1be5, 1, 2), Messages.Commit.decode(w.buffer(), 0, w.length()));

        w = new Messages.Scan(0, 10, 1000, null, new long[] {4}).encode(new BodyWriter());
        assertNull(Messages.Scan.decode(w.buffer(), 0, w.length()).fromInternalKey());
        w = new Messages.Scan(Messages.SCAN_REVERSE | Messages.SCAN_EXCLUSIVE, 10, 1000, new byte[9], new long[] {4, 7})
                .encode(new BodyWriter());
        Messages.Scan sc = Messages.Scan.decode(w.buffer(), 0, w.length());
        assertTrue(sc.reverse() && sc.exclusive());
        assertArrayEquals(new long[] {4, 7}, sc.segments());
        BodyWriter noSegments = new Messages.Scan(0, 10, 1000, null, new long[0]).encode(new BodyWriter());
        assertThrows(MalformedMessageException.class, () -> Messages.Scan.decode(noSegments.buffer(), 0, noSegments.length()));
        BodyWriter badFlags = new Messages.Scan(4, 10, 1000, null, new long[] {1}).encode(new BodyWriter());
        assertThrows(MalformedMessageException.class, () -> Messages.Scan.decode(badFlags.buffer(), 0, badFlags.length()));
        w = new Messages.ScanBatch(List.of(new Messages.Entry(new byte[9], new byte[] {7})), true).encode(new BodyWriter());
        Messages.ScanBatch sb = Messages.ScanBatch.decode(w.buffer(), 0, w.length());
        assertTrue(sb.more());
        assertArrayEquals(new byte[] {7}, sb.entries().get(0).value());
        io.o3lsm.spi.MemoryNode.ScanBatch raw = Messages.ScanBatch.decodeRaw(w.buffer(), 0, w.length());
        assertEquals(1, raw.count());
        assertTrue(raw.more());
        assertEquals(4 + 9 + 4 + 1, raw.entries().length);
        int batchLen = w.length();
        UnsafeBuffer shortKey = new UnsafeBuffer(new byte[batchLen]);
        shortKey.putBytes(0, w.buffer(), 0, batchLen);
        shortKey.putInt(8, 7, java.nio.ByteOrder.LITTLE_ENDIAN); // an internal key needs its 8-byte trailer
        assertThrows(MalformedMessageException.class, () -> Messages.ScanBatch.decodeRaw(shortKey, 0, batchLen));
        assertThrows(MalformedMessageException.class, () -> Messages.ScanBatch.decodeRaw(w2(batchLen), 0, batchLen - 1));

        w = new Messages.GetResult(2, 0, 11, null).encode(new BodyWriter());
        Messages.GetResult g = Messages.GetResult.decode(w.buffer(), 0, w.length());
        assertEquals(2, g.state());
        assertNull(g.value());

        w = new Messages.Stats(1, 2, 3, 4, 5, 6, List.of(new Messages.DbStats("d", 1, 2, 3))).encode(new BodyWriter());
        assertEquals("d", Messages.Stats.decode(w.buffer(), 0, w.length()).dbs().get(0).dbId());
    }

    /** A one-entry scan batch, for truncation checks. */
    private static UnsafeBuffer w2(int expectLen) {
        BodyWriter w = new Messages.ScanBatch(List.of(new Messages.Entry(new byte[9], new byte[] {7})), true)
                .encode(new BodyWriter());
        assertEquals(expectLen, w.length());
        UnsafeBuffer b = new UnsafeBuffer(new byte[w.length()]);
        b.putBytes(0, w.buffer(), 0, w.length());
        return b;
    }

    @Test
    void shouldRejectTruncatedOrOversizedBodies() {
        byte[] get = getRequestExample();
        int bodyLen = get.length - MessageHeaderDescriptor.LENGTH;
        UnsafeBuffer body = new UnsafeBuffer(get, MessageHeaderDescriptor.LENGTH, bodyLen);
        for (int cut = 0; cut < bodyLen; cut++) {
            int n = cut;
            assertThrows(MalformedMessageException.class, () -> Messages.Get.decode(body, 0, n), "cut at " + n);
        }
        // trailing bytes
        UnsafeBuffer longer = new UnsafeBuffer(new byte[bodyLen + 1]);
        longer.putBytes(0, body, 0, bodyLen);
        assertThrows(MalformedMessageException.class, () -> Messages.Get.decode(longer, 0, bodyLen + 1));
        // a key length pointing past the end
        UnsafeBuffer lying = new UnsafeBuffer(body.byteArray().clone(), MessageHeaderDescriptor.LENGTH, bodyLen);
        lying.putInt(12, Integer.MAX_VALUE, java.nio.ByteOrder.LITTLE_ENDIAN);
        assertThrows(MalformedMessageException.class, () -> Messages.Get.decode(lying, 0, bodyLen));
        // a candidate count beyond the limit
        UnsafeBuffer many = new UnsafeBuffer(body.byteArray().clone(), MessageHeaderDescriptor.LENGTH, bodyLen);
        many.putInt(8, -1, java.nio.ByteOrder.LITTLE_ENDIAN);
        assertThrows(MalformedMessageException.class, () -> Messages.Get.decode(many, 0, bodyLen));
    }

    @Test
    void shouldBindHandshakeMacsToBothNoncesAndLabels() {
        byte[] secret = "0123456789abcdef".getBytes(StandardCharsets.UTF_8);
        byte[] a = new byte[32];
        byte[] b = new byte[32];
        b[0] = 1;
        byte[] client = HandshakeMac.client(secret, a, b, 1, "db");
        assertEquals(32, client.length);
        assertTrue(HandshakeMac.matches(client, HandshakeMac.client(secret, a, b, 1, "db")));
        assertTrue(!HandshakeMac.matches(client, HandshakeMac.node(secret, b, a, 1, "db")), "labels must differ");
        assertTrue(!HandshakeMac.matches(client, HandshakeMac.client(secret, a, b, 2, "db")), "epoch bound");
        assertTrue(!HandshakeMac.matches(client, HandshakeMac.client("0123456789abcdeX".getBytes(), a, b, 1, "db")));
    }
}
