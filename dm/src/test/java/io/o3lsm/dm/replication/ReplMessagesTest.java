package io.o3lsm.dm.replication;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.dm.protocol.BodyWriter;
import io.o3lsm.dm.protocol.MalformedMessageException;
import io.o3lsm.spi.Replication;
import java.util.LinkedHashMap;
import java.util.Map;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/** Replication message bodies: round trips, and bad bytes refused with the reason (never an out-of-bounds read). */
class ReplMessagesTest {
    private static UnsafeBuffer buf(BodyWriter w) {
        return new UnsafeBuffer(w.toByteArray());
    }

    @Test
    void shouldRoundTripAttachWithHoldingsAndKeys() throws Exception {
        Map<Long, Long> files = new LinkedHashMap<>();
        files.put(5L, 1000L);
        files.put(9L, 0L);
        ReplMessages.Attach a = new ReplMessages.Attach(250, new Replication.Holdings("db-1", 7, files, 42), 0x1000,
                1 << 20, new byte[] {1, 2, 3}, 0x2000, 1 << 20, new byte[] {4, 5});
        BodyWriter w = a.encode(new BodyWriter());
        ReplMessages.Attach b = ReplMessages.Attach.decode(buf(w), 0, w.length());
        assertEquals(a.holdings(), b.holdings());
        assertEquals(250, b.heartbeatMillis());
        assertArrayEquals(a.logRkey(), b.logRkey());
        assertArrayEquals(a.landingRkey(), b.landingRkey());
        assertEquals(1 << 20, b.logLength());
    }

    @Test
    void shouldReadAnEmptyDbIdAsHoldingNothing() throws Exception {
        ReplMessages.Attach a = new ReplMessages.Attach(1, new Replication.Holdings(null, 0, Map.of(), 0), 0, 1 << 16,
                new byte[1], 0, 4096, new byte[1]);
        BodyWriter w = a.encode(new BodyWriter());
        assertNull(ReplMessages.Attach.decode(buf(w), 0, w.length()).holdings().dbId());
    }

    @Test
    void shouldRefuseAnAttachWithATooSmallLogBufferOrTrailingBytes() {
        ReplMessages.Attach small = new ReplMessages.Attach(1, new Replication.Holdings(null, 0, Map.of(), 0), 0, 4096,
                new byte[1], 0, 4096, new byte[1]);
        BodyWriter w = small.encode(new BodyWriter());
        MalformedMessageException e = assertThrows(MalformedMessageException.class,
                () -> ReplMessages.Attach.decode(buf(w), 0, w.length()));
        assertTrue(e.getMessage().contains("log-length"), e.getMessage());
        BodyWriter hello = new ReplMessages.Hello(new byte[32], "b").encode(new BodyWriter()).i32(0);
        e = assertThrows(MalformedMessageException.class, () -> ReplMessages.Hello.decode(buf(hello), 0, hello.length()));
        assertTrue(e.getMessage().contains("4 trailing bytes"), e.getMessage());
    }

    @Test
    void shouldRefuseAFileCountLargerThanTheBody() {
        BodyWriter w = new BodyWriter().i32(1).string("db").i64(1).i64(0).i32(1_000_000);
        MalformedMessageException e = assertThrows(MalformedMessageException.class,
                () -> ReplMessages.Attach.decode(buf(w), 0, w.length()));
        assertTrue(e.getMessage().contains("file-count"), e.getMessage());
    }

    @Test
    void shouldRefuseFileChunksOutsideTheFileOrTheLandingBuffer() {
        for (ReplMessages.FileChunk c : new ReplMessages.FileChunk[] {
            new ReplMessages.FileChunk(1, 100, 90, 20, 0), // past the end
            new ReplMessages.FileChunk(1, 1 << 22, 0, (1 << 20) + 1, 0), // larger than the landing buffer
            new ReplMessages.FileChunk(1, 100, 0, 0, 0), // empty chunk of a non-empty file
            new ReplMessages.FileChunk(1, 100, -1, 10, 0)}) {
            BodyWriter w = c.encode(new BodyWriter());
            assertThrows(MalformedMessageException.class, () -> ReplMessages.FileChunk.decode(buf(w), 0, w.length(),
                    1 << 20), c.toString());
        }
    }

    @Test
    void shouldCheckEveryRecordOfALogBatch() throws Exception {
        BodyWriter ok = new BodyWriter().i32(2).i64(3).lengthPrefixed(new byte[12]).i64(3).lengthPrefixed(new byte[20]);
        assertEquals(2, ReplMessages.checkLogBatch(buf(ok), 0, ok.length()));
        BodyWriter shortRecord = new BodyWriter().i32(1).i64(3).lengthPrefixed(new byte[11]);
        assertThrows(MalformedMessageException.class, () -> ReplMessages.checkLogBatch(buf(shortRecord), 0,
                shortRecord.length()));
        BodyWriter lying = new BodyWriter().i32(1).i64(3).i32(1000).bytes(new byte[12]);
        assertThrows(MalformedMessageException.class, () -> ReplMessages.checkLogBatch(buf(lying), 0, lying.length()));
    }
}
