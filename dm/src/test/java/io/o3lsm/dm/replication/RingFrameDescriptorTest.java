package io.o3lsm.dm.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32C;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/** The ring frame layout, against the worked example of docs/format/replication-protocol.md. */
class RingFrameDescriptorTest {
    @Test
    void shouldMatchTheWorkedExampleOfTheProtocolSpec() {
        ByteBuffer mem = ByteBuffer.allocateDirect(256).order(ByteOrder.LITTLE_ENDIAN);
        UnsafeBuffer ring = new UnsafeBuffer(mem);
        byte[] record = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(5).putInt(1)
                .put(new byte[] {1, 2, 3, 4}).array();
        CRC32C crc = new CRC32C();
        int n = RingFrameDescriptor.writeLog(ring, mem.duplicate(), crc, 64, 64, 3, 0x11223344, List.of(record),
                new int[] {16}, 20);
        assertEquals(56, n);
        byte[] frame = new byte[56];
        ring.getBytes(64, frame);
        String hex = HexFormat.of().formatHex(frame);
        assertEquals("4000000000000000" + "0300000000000000" + "4433221101000000" + "14000000", hex.substring(0, 56));
        assertEquals("10000000" + "0500000000000000" + "01000000" + "01020304" + "00000000", hex.substring(64));
        CRC32C expected = new CRC32C();
        expected.update(frame, 0, 28);
        expected.update(frame, 32, 20);
        assertEquals((int) expected.getValue(), RingFrameDescriptor.storedCrc(ring, 64));
        assertEquals(RingFrameDescriptor.storedCrc(ring, 64), RingFrameDescriptor.crc(mem.duplicate(), crc, 64, 20));
        assertEquals(120, 64 + n, "the next frame's position");
    }

    @Test
    void shouldChecksumOnlyTheHeaderOfAPad() {
        ByteBuffer mem = ByteBuffer.allocateDirect(128).order(ByteOrder.LITTLE_ENDIAN);
        UnsafeBuffer ring = new UnsafeBuffer(mem);
        RingFrameDescriptor.writePad(ring, mem.duplicate(), new CRC32C(), 64, 1000, 7, 128);
        assertEquals(RingFrameDescriptor.TYPE_PAD, RingFrameDescriptor.typeWord(ring, 64));
        assertEquals(128 - 64 - 32, RingFrameDescriptor.length(ring, 64));
        byte[] header = new byte[28];
        ring.getBytes(64, header);
        CRC32C c = new CRC32C();
        c.update(header);
        assertEquals((int) c.getValue(), RingFrameDescriptor.storedCrc(ring, 64));
    }
}
