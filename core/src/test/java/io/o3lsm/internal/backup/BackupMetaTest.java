package io.o3lsm.internal.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.CorruptionException;
import io.o3lsm.O3Exception;
import io.o3lsm.format.Crc32c;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** docs/format/backup-meta.md: {@link BackupMetaWriter} and {@link BackupMetaReader}. */
class BackupMetaTest {
    private static final BackupMeta META = new BackupMeta(3, 1_796_648_207_422L, 12345, 2, 4096, List.of(
            new BackupMeta.Entry("000012.sst", "shared/000012_4000_0a1b2c3d.sst", 4000, 0x0a1b2c3d),
            new BackupMeta.Entry("CURRENT", "private/3/CURRENT", 16, 0xfedcba98)));

    @Test
    void shouldReadBackWhatItWrote() {
        assertEquals(META, BackupMetaReader.decode("m", BackupMetaWriter.encode(META), 3));
        assertEquals(4016, META.size());
    }

    @Test
    void shouldRejectEveryFlippedByteAndEveryTruncation() {
        byte[] good = BackupMetaWriter.encode(META);
        for (int i = 0; i < good.length; i++) {
            byte[] bad = good.clone();
            bad[i] ^= 0x01;
            int at = i;
            assertThrows(CorruptionException.class, () -> BackupMetaReader.decode("m", bad, 3), "byte " + at);
        }
        for (int len = 0; len < good.length; len++) {
            byte[] cut = Arrays.copyOf(good, len);
            assertThrows(CorruptionException.class, () -> BackupMetaReader.decode("m", cut, 3), "length " + len);
        }
    }

    @Test
    void shouldRefuseANewerVersionAsNotCorruption() {
        String body = new String(BackupMetaWriter.encode(META), StandardCharsets.US_ASCII);
        body = body.substring(0, body.lastIndexOf("crc32c ")).replace("o3lsm-backup-meta 1", "o3lsm-backup-meta 2");
        byte[] b = body.getBytes(StandardCharsets.US_ASCII);
        String text = body + "crc32c " + BackupMetaWriter.hex(Crc32c.value(b, 0, b.length)) + "\n";
        O3Exception e = assertThrows(O3Exception.class, () -> BackupMetaReader.decode("m",
                text.getBytes(StandardCharsets.US_ASCII), 3));
        assertFalse(e instanceof CorruptionException);
        assertTrue(e.getMessage().contains("version 2"), e.getMessage());
    }

    @Test
    void shouldReadTheExampleOfTheFormatPage() throws Exception {
        Path page = Path.of("../docs/format/backup-meta.md");
        String md = Files.readString(page);
        int start = md.indexOf("```\no3lsm-backup-meta 1\n") + 4;
        String example = md.substring(start, md.indexOf("```", start));
        BackupMeta m = BackupMetaReader.decode(page.toString(), example.getBytes(StandardCharsets.US_ASCII), 1);
        assertEquals(6, m.files().size());
        assertEquals("shared/000004_514_c4d2007d.sst", m.files().get(0).stored());
        assertEquals(1241, m.size());
    }
    // ------------------------------------------------------------------ strictness (the format page's rules)

    /** META's body (everything before the checksum line) edited by {@code edit}, sealed with a correct CRC32C. */
    private static byte[] edited(UnaryOperator<String> edit) {
        String text = new String(BackupMetaWriter.encode(META), StandardCharsets.ISO_8859_1);
        String body = edit.apply(text.substring(0, text.lastIndexOf("crc32c ")));
        byte[] b = body.getBytes(StandardCharsets.ISO_8859_1);
        return (body + "crc32c " + BackupMetaWriter.hex(Crc32c.value(b, 0, b.length)) + "\n")
                .getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Decoding {@code bytes} as meta/3 fails with corruption at {@code offset}. */
    private static CorruptionException refused(byte[] bytes, long offset) {
        CorruptionException e = assertThrows(CorruptionException.class, () -> BackupMetaReader.decode("m", bytes, 3));
        assertEquals("m", e.file());
        assertEquals(offset, e.offset(), e.getMessage());
        return e;
    }

    private static int offsetOf(String line) {
        return new String(BackupMetaWriter.encode(META), StandardCharsets.ISO_8859_1).indexOf(line);
    }

    @Test
    void shouldRefuseAnIdOtherThanTheOneOfItsFileName() {
        byte[] b = BackupMetaWriter.encode(META);
        CorruptionException e = assertThrows(CorruptionException.class, () -> BackupMetaReader.decode("meta/4", b, 4));
        assertEquals(offsetOf("id 3\n"), e.offset());
        assertTrue(e.getMessage().contains("id 4") && e.getMessage().contains("found 3"), e.getMessage());
    }

    @Test
    void shouldRefuseAnIdOrNewFilesCountOutsideTheIntRangeInsteadOfNarrowingIt() {
        // 2^32 + 3 narrows to 3: must not be read as backup 3
        refused(edited(t -> t.replace("id 3\n", "id 4294967299\n")), offsetOf("id 3\n"));
        refused(edited(t -> t.replace("id 3\n", "id 0\n")), offsetOf("id 3\n"));
        refused(edited(t -> t.replace("new-files 2\n", "new-files 4294967298\n")), offsetOf("new-files 2\n"));
    }

    @Test
    void shouldRefuseSignsLeadingZerosAndOverflowInDecimalNumbers() {
        for (String bad : List.of("+4096", "-4096", "04096", "00", " 4096", "4096 ", "", "4O96", "9223372036854775808",
                "99999999999999999999")) {
            refused(edited(t -> t.replace("new-bytes 4096\n", "new-bytes " + bad + "\n")), offsetOf("new-bytes 4096\n"));
            refused(edited(t -> t.replace(" 4000 0a1b2c3d\n", " " + bad + " 0a1b2c3d\n")), offsetOf("file 000012.sst"));
        }
        refused(edited(t -> t.replace("o3lsm-backup-meta 1\n", "o3lsm-backup-meta 01\n")), 0);
        refused(edited(t -> t.replace("o3lsm-backup-meta 1\n", "o3lsm-backup-meta +1\n")), 0);
        assertEquals(Long.MAX_VALUE, BackupMetaReader.decode("m", edited(t -> t.replace("sequence 12345\n",
                "sequence 9223372036854775807\n")), 3).sequence());
        assertEquals(0, BackupMetaReader.decode("m", edited(t -> t.replace("new-bytes 4096\n", "new-bytes 0\n")), 3)
                .newBytes());
    }

    @Test
    void shouldRefuseHexOtherThanEightLowerCaseDigits() {
        for (String bad : List.of("0A1B2C3D", "+a1b2c3d", "-a1b2c3d", "a1b2c3d", "00a1b2c3d", "0a1b2c3g")) {
            CorruptionException e = refused(edited(t -> t.replace(" 4000 0a1b2c3d\n", " 4000 " + bad + "\n")),
                    offsetOf("file 000012.sst"));
            assertTrue(e.getMessage().contains("lower-case hex") || e.getMessage().contains("stored"), e.getMessage());
        }
        byte[] good = BackupMetaWriter.encode(META);
        String text = new String(good, StandardCharsets.ISO_8859_1);
        int last = text.lastIndexOf("crc32c ");
        for (String tail : List.of(text.substring(last).toUpperCase().replace("CRC32C", "crc32c"),
                text.substring(last).replace("\n", " \n"), text.substring(last).replace("crc32c ", "crc32c  "))) {
            if (tail.equals(text.substring(last))) {
                continue; // the CRC has no letter to upper-case
            }
            refused((text.substring(0, last) + tail).getBytes(StandardCharsets.ISO_8859_1), last);
        }
    }

    @Test
    void shouldRefuseBytesOutsidePrintableAsciiAtTheirOffset() {
        int at = offsetOf("file 000012.sst") + "file ".length();
        for (char bad : new char[] {'\u00e9', '\u0080', '\u00ff', '\t', '\r', '\u0000', '\u007f'}) {
            CorruptionException e = refused(edited(t -> t.replace("file 000012.sst", "file " + bad + "00012.sst")), at);
            assertTrue(e.getMessage().contains("printable ASCII"), e.getMessage());
        }
    }

    @Test
    void shouldRefuseAMetaOverTheSizeLimitAsCorruption() {
        byte[] big = new byte[BackupMeta.MAX_BYTES + 1];
        big[big.length - 1] = '\n';
        CorruptionException e = refused(big, BackupMeta.MAX_BYTES);
        assertTrue(e.getMessage().contains(Integer.toString(BackupMeta.MAX_BYTES)), e.getMessage());
    }

    /** Names and stored paths that could reach outside the target or the backup directory, or do not match. */
    @Test
    void shouldRefuseFileLinesOutsideTheNameAndStoredPathRules() {
        int line = offsetOf("file 000012.sst");
        int current = offsetOf("file CURRENT");
        List<String[]> tableLines = List.of( // name, stored
                new String[] {"../000012.sst", "shared/000012_4000_0a1b2c3d.sst"},
                new String[] {"000012.sst", "shared/../../000012_4000_0a1b2c3d.sst"},
                new String[] {"000012.sst", "/etc/000012_4000_0a1b2c3d.sst"},
                new String[] {"000012.sst", "shared/000013_4000_0a1b2c3d.sst"},   // another number
                new String[] {"000012.sst", "shared/000012_4001_0a1b2c3d.sst"},   // another size
                new String[] {"000012.sst", "shared/000012_4000_0a1b2c3e.sst"},   // another CRC
                new String[] {"000012.sst", "private/3/000012.sst"},              // a table is shared
                new String[] {"12.sst", "shared/12_4000_0a1b2c3d.sst"},           // not as the DB names it
                new String[] {"0000012.sst", "shared/0000012_4000_0a1b2c3d.sst"},
                new String[] {"000012.dbtmp", "private/3/000012.dbtmp"},          // a temp file: never backed up
                new String[] {"LOCK", "private/3/LOCK"},
                new String[] {"OPTIONS", "private/3/OPTIONS"},
                new String[] {"a/000012.sst", "shared/000012_4000_0a1b2c3d.sst"});
        for (String[] l : tableLines) {
            CorruptionException e = refused(edited(t -> t.replace("file 000012.sst shared/000012_4000_0a1b2c3d.sst ",
                    "file " + l[0] + " " + l[1] + " ")), line);
            assertTrue(e.getMessage().contains(l[0]) || e.getMessage().contains(l[1]), e.getMessage());
        }
        for (String stored : List.of("private/2/CURRENT", "private/3/../2/CURRENT", "private/3/IDENTITY",
                "private/03/CURRENT", "shared/CURRENT", "private/3/CURRENT/", "../private/3/CURRENT")) {
            refused(edited(t -> t.replace("file CURRENT private/3/CURRENT ", "file CURRENT " + stored + " ")), current);
        }
        for (String name : List.of("IDENTITY", "TTL", "000015.log", "MANIFEST-000017", "1234567.log")) {
            BackupMeta m = BackupMetaReader.decode("m", edited(t -> t.replace("file CURRENT private/3/CURRENT ",
                    "file " + name + " private/3/" + name + " ")), 3);
            assertEquals(name, m.files().get(1).name());
        }
        refused(edited(t -> t.replace("files 2\n", "files 3\n") + "file CURRENT private/3/CURRENT 16 fedcba98\n"),
                offsetOf("crc32c "));
    }

    @Test
    void shouldRefuseToWriteWhatItWouldNotReadBack() {
        for (BackupMeta.Entry bad : List.of(
                new BackupMeta.Entry("../x.log", "private/3/../x.log", 1, 0),
                new BackupMeta.Entry("000012.sst", "shared/000012_4000_0a1b2c3e.sst", 4000, 0x0a1b2c3d),
                new BackupMeta.Entry("CURRENT", "private/4/CURRENT", 16, 0),
                new BackupMeta.Entry("CURRENT", "private/3/CURRENT", -1, 0),
                new BackupMeta.Entry("caf\u00e9", "private/3/caf\u00e9", 1, 0),
                new BackupMeta.Entry("LOCK", "private/3/LOCK", 0, 0))) {
            BackupMeta m = new BackupMeta(3, 1, 1, 1, 1, List.of(bad));
            assertThrows(IllegalArgumentException.class, () -> BackupMetaWriter.encode(m), bad.toString());
        }
        BackupMeta.Entry c = new BackupMeta.Entry("CURRENT", "private/3/CURRENT", 16, 0);
        assertThrows(IllegalArgumentException.class, () -> BackupMetaWriter.encode(new BackupMeta(3, 1, 1, 1, 1,
                List.of(c, c))));
        assertThrows(IllegalArgumentException.class, () -> BackupMetaWriter.encode(new BackupMeta(0, 1, 1, 1, 1,
                List.of())));
    }
}
