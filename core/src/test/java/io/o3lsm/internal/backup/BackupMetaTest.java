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
import org.junit.jupiter.api.Test;

/** docs/format/backup-meta.md: {@link BackupMetaWriter} and {@link BackupMetaReader}. */
class BackupMetaTest {
    private static final BackupMeta META = new BackupMeta(3, 1_796_648_207_422L, 12345, 2, 4096, List.of(
            new BackupMeta.Entry("000012.sst", "shared/000012_4000_0a1b2c3d.sst", 4000, 0x0a1b2c3d),
            new BackupMeta.Entry("CURRENT", "private/3/CURRENT", 16, 0xfedcba98)));

    @Test
    void shouldReadBackWhatItWrote() {
        assertEquals(META, BackupMetaReader.decode("m", BackupMetaWriter.encode(META)));
        assertEquals(4016, META.size());
    }

    @Test
    void shouldRejectEveryFlippedByteAndEveryTruncation() {
        byte[] good = BackupMetaWriter.encode(META);
        for (int i = 0; i < good.length; i++) {
            byte[] bad = good.clone();
            bad[i] ^= 0x01;
            int at = i;
            assertThrows(CorruptionException.class, () -> BackupMetaReader.decode("m", bad), "byte " + at);
        }
        for (int len = 0; len < good.length; len++) {
            byte[] cut = Arrays.copyOf(good, len);
            assertThrows(CorruptionException.class, () -> BackupMetaReader.decode("m", cut), "length " + len);
        }
    }

    @Test
    void shouldRefuseANewerVersionAsNotCorruption() {
        String body = new String(BackupMetaWriter.encode(META), StandardCharsets.US_ASCII);
        body = body.substring(0, body.lastIndexOf("crc32c ")).replace("o3lsm-backup-meta 1", "o3lsm-backup-meta 2");
        byte[] b = body.getBytes(StandardCharsets.US_ASCII);
        String text = body + "crc32c " + BackupMetaWriter.hex(Crc32c.value(b, 0, b.length)) + "\n";
        O3Exception e = assertThrows(O3Exception.class, () -> BackupMetaReader.decode("m",
                text.getBytes(StandardCharsets.US_ASCII)));
        assertFalse(e instanceof CorruptionException);
        assertTrue(e.getMessage().contains("version 2"), e.getMessage());
    }

    @Test
    void shouldReadTheExampleOfTheFormatPage() throws Exception {
        Path page = Path.of("../docs/format/backup-meta.md");
        String md = Files.readString(page);
        int start = md.indexOf("```\no3lsm-backup-meta 1\n") + 4;
        String example = md.substring(start, md.indexOf("```", start));
        BackupMeta m = BackupMetaReader.decode(page.toString(), example.getBytes(StandardCharsets.US_ASCII));
        assertEquals(6, m.files().size());
        assertEquals("shared/000004_514_c4d2007d.sst", m.files().get(0).stored());
        assertEquals(1241, m.size());
    }
}
