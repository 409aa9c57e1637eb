package io.o3lsm.internal.version;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.CorruptionException;
import io.o3lsm.format.InternalKey;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class VersionEditTest {
    private static VersionEdit docExample() {
        VersionEdit e = new VersionEdit();
        e.logNumber = 11L;
        e.nextFileNumber = 13L;
        e.lastSequence = 9L;
        e.rangeWatermarks.put(1, 9L);
        e.addFile(0, new FileMetaData(12, 2048, InternalKey.encode(new byte[] {'a'}, 9, InternalKey.TYPE_VALUE),
                InternalKey.encode(new byte[] {'c'}, 7, InternalKey.TYPE_VALUE), 7, 9));
        return e;
    }

    @Test
    void shouldEncodeTheDocumentedExampleByteForByte() {
        String expected = "020b" + "030d" + "0409" + "080109" + "06000c8010"
                + "09610109000000000000" + "09630107000000000000" + "0709";
        assertEquals(expected, HexFormat.of().formatHex(docExample().encode()));
    }

    @Test
    void shouldRoundTripEveryField() {
        VersionEdit e = docExample();
        e.comparator = VersionEdit.COMPARATOR;
        e.epoch = 4L;
        e.shardBoundaries = List.of(new byte[] {1}, new byte[] {2, 3});
        e.deleteFile(3, 77);
        VersionEdit d = VersionEdit.decode(e.encode(), "MANIFEST-000001", 0);
        assertEquals(VersionEdit.COMPARATOR, d.comparator);
        assertEquals(11L, d.logNumber);
        assertEquals(13L, d.nextFileNumber);
        assertEquals(9L, d.lastSequence);
        assertEquals(4L, d.epoch);
        assertEquals(2, d.shardBoundaries.size());
        assertArrayEquals(new byte[] {2, 3}, d.shardBoundaries.get(1));
        assertEquals(9L, d.rangeWatermarks.get(1));
        assertEquals(77L, d.deletedFiles.get(0)[1]);
        FileMetaData f = d.newFiles.get(0).getValue();
        assertEquals(12, f.number);
        assertEquals(2048, f.size);
        assertEquals(7, f.smallestSeq);
        assertEquals(9, f.largestSeq);
    }

    @Test
    void shouldRejectUnknownTagsAndTruncation() {
        CorruptionException e = assertThrows(CorruptionException.class,
                () -> VersionEdit.decode(new byte[] {0x2a, 0x01}, "MANIFEST-000009", 123));
        assertTrue(e.getMessage().contains("MANIFEST-000009") && e.getMessage().contains("123"), e.getMessage());
        byte[] enc = docExample().encode();
        byte[] cut = java.util.Arrays.copyOf(enc, enc.length - 3);
        assertThrows(CorruptionException.class, () -> VersionEdit.decode(cut, "MANIFEST-000009", 0));
    }
}
