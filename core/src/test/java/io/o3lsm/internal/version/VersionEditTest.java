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

    /** manifest.md's column-family examples: family 4 "sessions" (TTL) created, dropped; a new DB's registry. */
    @Test
    void shouldEncodeTheDocumentedFamilyExamplesByteForByte() {
        VersionEdit create = new VersionEdit();
        create.nextFileNumber = 13L;
        create.addedFamilies.add(new VersionEdit.Family(4, "sessions", VersionEdit.FAMILY_FLAG_TTL));
        create.nextFamilyId = 5;
        assertEquals("030d" + "0b0408" + "73657373696f6e73" + "01" + "0d05",
                HexFormat.of().formatHex(create.encode()));
        VersionEdit back = VersionEdit.decode(create.encode(), "MANIFEST-000001", 0);
        assertEquals(List.of(new VersionEdit.Family(4, "sessions", 1)), back.addedFamilies);
        assertEquals(5, back.nextFamilyId);

        VersionEdit drop = new VersionEdit();
        drop.nextFileNumber = 13L;
        drop.droppedFamilies.add(4);
        assertEquals("030d" + "0c04", HexFormat.of().formatHex(drop.encode()));
        assertEquals(List.of(4), VersionEdit.decode(drop.encode(), "MANIFEST-000001", 0).droppedFamilies);

        VersionEdit registry = new VersionEdit();
        registry.families = true;
        registry.addedFamilies.add(new VersionEdit.Family(0, "default", 0));
        registry.addedFamilies.add(new VersionEdit.Family(1, "users", 0));
        registry.nextFamilyId = 2;
        assertEquals("0a01" + "0b0007" + "64656661756c74" + "00" + "0b0105" + "7573657273" + "00" + "0d02",
                HexFormat.of().formatHex(registry.encode()));
        assertTrue(VersionEdit.decode(registry.encode(), "MANIFEST-000001", 0).families);
    }

    @Test
    void shouldRejectMalformedFamilyFields() {
        for (String hex : new String[] {"0a02", "0b04017802", "0e01", "0c8080808008"}) {
            byte[] bad = HexFormat.of().parseHex(hex);
            CorruptionException e = assertThrows(CorruptionException.class,
                    () -> VersionEdit.decode(bad, "MANIFEST-000009", 7), hex);
            assertTrue(e.getMessage().contains("MANIFEST-000009"), e.getMessage());
        }
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
