package io.o3lsm.dm.replication;

import io.o3lsm.spi.Replication;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Reads the backup's log buffer ({@link RingFrameDescriptor}): takes the frames waiting at the
 * consumed position, checks each (position, instance, type, lengths, CRC32C) and hands every record
 * of a LOG frame to {@link Replication.Target#applyLog} in a byte array it reuses for the next record.
 * The backup's apply thread only; allocates nothing per record once its array fits the largest one.
 */
final class RingReader {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private final UnsafeBuffer ring;
    private final ByteBuffer ringView;
    private final Replication.Target target;
    private final CRC32C crc = new CRC32C();
    private byte[] record = new byte[4096];
    private boolean badFrame;

    RingReader(UnsafeBuffer ring, ByteBuffer ringView, Replication.Target target) {
        this.ring = ring;
        this.ringView = ringView;
        this.target = target;
    }

    /** Whether, after the last {@link #poll}, the frame at its returned position is there but fails its CRC. */
    boolean badFrame() {
        return badFrame;
    }


    /**
     * Applies the frames waiting at {@code pos} (at most 64) and returns the position after them;
     * {@link #badFrame()} says whether the frame at the returned position is there but fails its CRC
     * (being written, or damaged).
     */
    long poll(long done, int ringSize, int instance) throws IOException {
        badFrame = false;
        long pos = done; // may run ahead of done past a tail too short for a frame; only done is reported
        for (int frames = 0; frames < 64; frames++) {
            int off = (int) (pos % ringSize);
            int tail = ringSize - off;
            if (tail < RingFrameDescriptor.HEADER_LENGTH) {
                pos += tail;
                continue;
            }
            if (RingFrameDescriptor.position(ring, off) != pos || RingFrameDescriptor.instance(ring, off) != instance) {
                return done;
            }
            int type = RingFrameDescriptor.typeWord(ring, off);
            int len = RingFrameDescriptor.length(ring, off);
            int payload = type == RingFrameDescriptor.TYPE_PAD ? 0 : len;
            boolean shape = type == RingFrameDescriptor.TYPE_PAD ? len == tail - RingFrameDescriptor.HEADER_LENGTH
                    : type == RingFrameDescriptor.TYPE_LOG && len >= 0 && len <= tail - RingFrameDescriptor.HEADER_LENGTH;
            if (!shape || RingFrameDescriptor.crc(ringView, crc, off, payload) != RingFrameDescriptor.storedCrc(ring, off)) {
                badFrame = true;
                return done;
            }
            if (type == RingFrameDescriptor.TYPE_PAD) {
                pos += tail;
                done = pos;
                continue;
            }
            long wal = RingFrameDescriptor.walNumber(ring, off);
            int q = off + RingFrameDescriptor.HEADER_LENGTH;
            int end = q + len;
            while (q < end) {
                int rl = end - q >= 4 ? ring.getInt(q, LE) : -1;
                if (rl < 12 || rl > end - q - 4) {
                    throw new IOException("ring frame at position " + pos + ": record at payload offset "
                            + (q - off - RingFrameDescriptor.HEADER_LENGTH) + " has length " + rl + " (12.."
                            + (end - q - 4) + " expected) although its CRC32C verified");
                }
                if (record.length < rl) {
                    record = new byte[Math.max(rl, record.length * 2)];
                }
                ring.getBytes(q + 4, record, 0, rl);
                target.applyLog(wal, record, 0, rl);
                q += 4 + rl;
            }
            pos += RingFrameDescriptor.align(RingFrameDescriptor.HEADER_LENGTH + len);
            done = pos;
        }
        return done;
    }
}
