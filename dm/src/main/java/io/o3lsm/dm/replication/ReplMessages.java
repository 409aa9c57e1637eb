package io.o3lsm.dm.replication;

import io.o3lsm.dm.protocol.BodyReader;
import io.o3lsm.dm.protocol.BodyWriter;
import io.o3lsm.dm.protocol.MalformedMessageException;
import io.o3lsm.spi.Replication;
import java.util.LinkedHashMap;
import java.util.Map;
import org.agrona.DirectBuffer;

/**
 * The bodies of the replication messages, each with its encoder and its bounds-checked decoder
 * (bad bytes throw {@link MalformedMessageException}, never an out-of-bounds access). Grammar:
 * {@code docs/format/replication-protocol.md}.
 */
public final class ReplMessages {
    private ReplMessages() {
    }

    private static void checkName(String s, String what) throws MalformedMessageException {
        if (s.isEmpty() || s.length() > 255) {
            throw new MalformedMessageException("expected a " + what + " of 1..255 characters, found " + s.length());
        }
    }

    /** {@code hello = backup-nonce:bytes(32) name:string}. */
    public record Hello(byte[] backupNonce, String name) {
        public BodyWriter encode(BodyWriter w) {
            return w.bytes(backupNonce).string(name);
        }

        public static Hello decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = new BodyReader(b, off, len);
            Hello h = new Hello(r.bytes(ReplProtocol.NONCE_LENGTH, "backup-nonce"), r.string("name"));
            r.expectEnd("HELLO");
            checkName(h.name, "backup name");
            return h;
        }
    }

    /** {@code challenge = primary-nonce:bytes(32) epoch:int64 db-id:string}. */
    public record Challenge(byte[] primaryNonce, long epoch, String dbId) {
        public BodyWriter encode(BodyWriter w) {
            return w.bytes(primaryNonce).i64(epoch).string(dbId);
        }

        public static Challenge decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = new BodyReader(b, off, len);
            Challenge c = new Challenge(r.bytes(ReplProtocol.NONCE_LENGTH, "primary-nonce"), r.i64("epoch"),
                    r.string("db-id"));
            r.expectEnd("CHALLENGE");
            checkName(c.dbId, "db-id");
            return c;
        }
    }

    /** {@code auth = backup-mac:bytes(32)} and {@code welcome = primary-mac:bytes(32)}. */
    public record Mac(byte[] mac) {
        public BodyWriter encode(BodyWriter w) {
            return w.bytes(mac);
        }

        public static Mac decode(DirectBuffer b, int off, int len, String message) throws MalformedMessageException {
            BodyReader r = new BodyReader(b, off, len);
            Mac m = new Mac(r.bytes(ReplProtocol.MAC_LENGTH, "mac"));
            r.expectEnd(message);
            return m;
        }
    }

    /**
     * <pre>
     * attach = heartbeat-ms:int32 db-id:string epoch:int64 applied-sequence:int64
     *          file-count:int32 file-count*(number:int64 size:int64)
     *          log-address:int64 log-length:int64 log-rkey:lp-bytes
     *          landing-address:int64 landing-length:int32 landing-rkey:lp-bytes
     * </pre>
     * An empty db-id: the backup holds nothing ({@link Replication.Holdings#dbId()} null).
     */
    public record Attach(int heartbeatMillis, Replication.Holdings holdings, long logAddress, long logLength,
            byte[] logRkey, long landingAddress, int landingLength, byte[] landingRkey) {
        public BodyWriter encode(BodyWriter w) {
            w.i32(heartbeatMillis).string(holdings.dbId() == null ? "" : holdings.dbId()).i64(holdings.epoch())
                    .i64(holdings.appliedSequence()).i32(holdings.files().size());
            for (Map.Entry<Long, Long> e : holdings.files().entrySet()) {
                w.i64(e.getKey()).i64(e.getValue());
            }
            return w.i64(logAddress).i64(logLength).lengthPrefixed(logRkey).i64(landingAddress).i32(landingLength)
                    .lengthPrefixed(landingRkey);
        }

        public static Attach decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = new BodyReader(b, off, len);
            int hb = r.i32("heartbeat-ms");
            if (hb < 1 || hb > 3_600_000) {
                throw new MalformedMessageException("expected heartbeat-ms in [1, 3600000], found " + hb);
            }
            String dbId = r.string("db-id");
            long epoch = r.i64("epoch");
            long applied = r.i64("applied-sequence");
            int n = r.i32("file-count");
            if (n < 0 || n > ReplProtocol.MAX_HELD_FILES || n > r.remaining() / 16) {
                throw new MalformedMessageException("expected file-count in [0, " + Math.min(ReplProtocol.MAX_HELD_FILES,
                        r.remaining() / 16) + "], found " + n);
            }
            Map<Long, Long> files = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                long number = r.i64("file number");
                long size = r.i64("file size");
                if (number < 0 || size < 0) {
                    throw new MalformedMessageException("expected file number and size >= 0, found " + number + " and "
                            + size);
                }
                files.put(number, size);
            }
            long logAddress = r.i64("log-address");
            long logLength = r.i64("log-length");
            byte[] logRkey = r.lengthPrefixed(4096, "log-rkey");
            long landingAddress = r.i64("landing-address");
            int landingLength = r.i32("landing-length");
            byte[] landingRkey = r.lengthPrefixed(4096, "landing-rkey");
            r.expectEnd("ATTACH");
            if (logLength < ReplProtocol.MIN_LOG_BUFFER || logLength > (1L << 30)) {
                throw new MalformedMessageException("expected log-length in [" + ReplProtocol.MIN_LOG_BUFFER + ", 2^30], found "
                        + logLength);
            }
            if (landingLength < 4096 || landingLength > (64 << 20)) {
                throw new MalformedMessageException("expected landing-length in [4096, 64 MiB], found " + landingLength);
            }
            return new Attach(hb, new Replication.Holdings(dbId.isEmpty() ? null : dbId, epoch, files, applied),
                    logAddress, logLength, logRkey, landingAddress, landingLength, landingRkey);
        }
    }

    /** {@code attached = ring-size:int64 instance:int32}: the ring the backup's buffer holds, and the tag of its frames. */
    public record Attached(long ringSize, int instance) {
        public BodyWriter encode(BodyWriter w) {
            return w.i64(ringSize).i32(instance);
        }

        public static Attached decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = new BodyReader(b, off, len);
            Attached a = new Attached(r.i64("ring-size"), r.i32("instance"));
            r.expectEnd("ATTACHED");
            return a;
        }
    }

    /**
     * {@code file-chunk = number:int64 size:int64 offset:int64 length:int32 crc:int32}: bytes
     * {@code [offset, offset+length)} of file {@code number} ({@code size} bytes in all) are at the start
     * of the backup's landing buffer; {@code crc} is their CRC32C.
     */
    public record FileChunk(long number, long size, long offset, int length, int crc) {
        public BodyWriter encode(BodyWriter w) {
            return w.i64(number).i64(size).i64(offset).i32(length).i32(crc);
        }

        public static FileChunk decode(DirectBuffer b, int off, int len, int landing) throws MalformedMessageException {
            BodyReader r = new BodyReader(b, off, len);
            FileChunk c = new FileChunk(r.i64("number"), r.i64("size"), r.i64("offset"), r.i32("length"), r.i32("crc"));
            r.expectEnd("FILE_CHUNK");
            if (c.number < 0 || c.size < 0 || c.offset < 0 || c.length < 0 || c.length > landing
                    || c.offset > c.size - c.length || (c.length == 0 && c.size != 0)) {
                throw new MalformedMessageException("bad FILE_CHUNK: file " + c.number + " of " + c.size + " bytes, "
                        + c.length + " bytes at " + c.offset + " (landing buffer " + landing + " bytes)");
            }
            return c;
        }
    }

    /** {@code snapshot = kept-sequence:int64 edit:lp-bytes}. */
    public record Snapshot(long keptSequence, byte[] edit) {
        public BodyWriter encode(BodyWriter w) {
            return w.i64(keptSequence).lengthPrefixed(edit);
        }

        public static Snapshot decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = new BodyReader(b, off, len);
            Snapshot s = new Snapshot(r.i64("kept-sequence"), r.lengthPrefixed(ReplProtocol.MAX_EDIT_BYTES, "edit"));
            r.expectEnd("SNAPSHOT");
            if (s.keptSequence < 0) {
                throw new MalformedMessageException("expected kept-sequence >= 0, found " + s.keptSequence);
            }
            return s;
        }
    }

    /** {@code edit-message = edit:lp-bytes}. */
    public static byte[] decodeEdit(DirectBuffer b, int off, int len) throws MalformedMessageException {
        BodyReader r = new BodyReader(b, off, len);
        byte[] edit = r.lengthPrefixed(ReplProtocol.MAX_EDIT_BYTES, "edit");
        r.expectEnd("EDIT");
        return edit;
    }

    /** {@code go-live = start-position:int64 last-sequence:int64}. */
    public record GoLive(long startPosition, long lastSequence) {
        public BodyWriter encode(BodyWriter w) {
            return w.i64(startPosition).i64(lastSequence);
        }

        public static GoLive decode(DirectBuffer b, int off, int len) throws MalformedMessageException {
            BodyReader r = new BodyReader(b, off, len);
            GoLive g = new GoLive(r.i64("start-position"), r.i64("last-sequence"));
            r.expectEnd("GO_LIVE");
            if (g.startPosition < 0 || (g.startPosition & 7) != 0) {
                throw new MalformedMessageException("expected an 8-byte aligned start-position >= 0, found " + g.startPosition);
            }
            return g;
        }
    }

    /** {@code consumed = position:int64}. */
    public static long decodeConsumed(DirectBuffer b, int off, int len) throws MalformedMessageException {
        BodyReader r = new BodyReader(b, off, len);
        long p = r.i64("position");
        r.expectEnd("CONSUMED");
        return p;
    }

    /**
     * Checks a LOG_BATCH body ({@code log-batch = count:int32 count*(wal-number:int64 record:lp-bytes)},
     * each record at least 12 bytes: its sequence and count) and returns the record count.
     */
    public static int checkLogBatch(DirectBuffer b, int off, int len) throws MalformedMessageException {
        BodyReader r = new BodyReader(b, off, len);
        int n = r.i32("count");
        if (n < 1 || n > len / 16) {
            throw new MalformedMessageException("expected a LOG_BATCH count in [1, " + len / 16 + "], found " + n);
        }
        for (int i = 0; i < n; i++) {
            r.i64("wal-number");
            r.skipLengthPrefixed(ReplProtocol.MAX_RECORD_BYTES, "record", 12);
        }
        r.expectEnd("LOG_BATCH");
        return n;
    }
}
