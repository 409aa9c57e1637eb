package io.o3lsm.internal.db;

import io.o3lsm.format.Crc32c;
import io.o3lsm.format.table.TableProperties;
import io.o3lsm.format.table.TableReader;
import io.o3lsm.internal.util.Bytes;
import io.o3lsm.internal.version.FileMetaData;
import io.o3lsm.spi.CompactionExecutor.OutputFile;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * The owner's checks of output files another process wrote (a flush worker's or a compactor's
 * result) before anything of them is installed, shared by {@link FlushOffloader} and
 * {@link CompactionOffloader}. Cheapest checks first, each with a name that appears in the refusal:
 * {@code number} (every output number is one of the attempt's, once), {@code range} (the reported
 * user keys lie in the job's bounds, smallest ≤ largest), {@code sequence} (inside the inputs'
 * sequence bounds), {@code overlap} (outputs share no user key), {@code completeness} (optional:
 * the newest input sequence is some output's largest), then per file {@code exists}, {@code size},
 * {@code crc32c} (of the whole file, read back here) and {@code table} (opens as a table whose
 * properties carry the reported keys, sequences and size). The entries themselves are not re-read.
 *
 * <p>Stateless; thread-safe. Reads files, so never called with the DB mutex held.
 */
final class OffloadResultCheck {
    private OffloadResultCheck() {
    }

    /** A check failed: {@link #check} names it, {@link #file} the table (-1: the result as a whole). */
    static class Refused extends Exception {
        final String check;
        final long file;

        Refused(String check, long file, String detail) {
            super(check + " check failed" + (file >= 0 ? " for table #" + file : "") + ": " + detail);
            this.check = check;
            this.file = file;
        }
    }

    /**
     * A compaction reported no outputs for inputs that hold entries. It may be right (everything was
     * deleted at the bottommost level) and is not trusted either way: the compaction runs locally.
     */
    static final class EmptyResult extends Refused {
        EmptyResult(String detail) {
            super("completeness", -1, detail);
        }
    }

    /** One file as reported: its metadata and the CRC32C of its whole contents. */
    record Reported(OutputFile file, int crc32c) {
    }

    /**
     * What the outputs must satisfy.
     *
     * @param name           the job's key range as the refusal names it ("shard range 2", "sub-range 1")
     * @param lower          inclusive lower user-key bound, or null
     * @param upper          upper user-key bound, or null: exclusive (an output's largest key may equal
     *                       it only as a range tombstone's exclusive end) unless {@code upperInclusive}
     * @param upperInclusive whether {@code upper} itself may be an output's (inclusive) largest key
     * @param minSeq         the inputs' smallest sequence
     * @param maxSeq         the inputs' largest sequence
     * @param newestRequired whether the newest input sequence must be in some output (a flush: its
     *                       newest entry always survives; not so for a compaction, which may drop it)
     */
    record Expect(String name, byte[] lower, byte[] upper, boolean upperInclusive, long minSeq, long maxSeq,
            boolean newestRequired) {
    }

    /**
     * Runs every check on {@code outputs}, reported for an attempt that was given {@code numbers};
     * returns their metadata as the VersionEdit takes it.
     */
    static List<FileMetaData> validate(FileSystem fs, Path dir, Expect x, long[] numbers, List<Reported> outputs)
            throws Refused {
        try {
            List<FileMetaData> files = checkMetadata(x, numbers, outputs);
            for (Reported r : outputs) {
                checkFile(fs, dir, r);
            }
            return files;
        } catch (RuntimeException ex) { // a malformed report must not fail the DB
            throw new Refused("metadata", -1, "malformed result: " + ex);
        }
    }

    private static List<FileMetaData> checkMetadata(Expect x, long[] numbers, List<Reported> outputs)
            throws Refused {
        Set<Long> allowed = new HashSet<>();
        for (long n : numbers) {
            allowed.add(n);
        }
        byte[] lower = x.lower();
        byte[] upper = x.upper();
        List<FileMetaData> files = new ArrayList<>();
        long newest = Long.MIN_VALUE;
        for (Reported r : outputs) {
            OutputFile o = r == null ? null : r.file();
            if (o == null) {
                throw new Refused("metadata", -1, "an output without metadata");
            }
            long n = o.number();
            if (!allowed.remove(n)) {
                throw new Refused("number", n, "not one of the attempt's output numbers " + Arrays.toString(numbers)
                        + " (or reported twice)");
            }
            FileMetaData f;
            try {
                f = FileMetaData.of(o);
            } catch (RuntimeException ex) {
                throw new Refused("metadata", n, "malformed smallest/largest key: " + ex);
            }
            byte[] small = f.smallestUserKey();
            byte[] large = f.largestUserKey();
            int c = Bytes.compare(small, large);
            if (c > 0 || c == 0 && f.largestIsExclusive()) {
                throw new Refused("range", n, "smallest key " + hex(small) + " is above largest " + hex(large));
            }
            if (lower != null && Bytes.compare(small, lower) < 0) {
                throw new Refused("range", n, "smallest key " + hex(small) + " lies below " + x.name()
                        + "'s lower bound " + hex(lower));
            }
            if (upper != null) {
                int cu = Bytes.compare(large, upper);
                if (cu > 0 || cu == 0 && !x.upperInclusive() && !f.largestIsExclusive()) {
                    throw new Refused("range", n, "largest key " + hex(large) + " lies "
                            + (x.upperInclusive() ? "above " : "at or above ") + x.name() + "'s upper bound "
                            + hex(upper));
                }
            }
            if (f.smallestSeq > f.largestSeq || f.smallestSeq < x.minSeq() || f.largestSeq > x.maxSeq()) {
                throw new Refused("sequence", n, "sequences " + f.smallestSeq + ".." + f.largestSeq
                        + " are not inside the inputs' " + x.minSeq() + ".." + x.maxSeq());
            }
            newest = Math.max(newest, f.largestSeq);
            files.add(f);
        }
        List<FileMetaData> sorted = new ArrayList<>(files);
        sorted.sort(Comparator.comparing(FileMetaData::smallestUserKey, Bytes::compare));
        for (int i = 1; i < sorted.size(); i++) {
            FileMetaData a = sorted.get(i - 1);
            FileMetaData b = sorted.get(i);
            int c = Bytes.compare(a.largestUserKey(), b.smallestUserKey());
            if (c > 0 || c == 0 && !a.largestIsExclusive()) {
                throw new Refused("overlap", b.number, "overlaps table #" + a.number);
            }
        }
        if (x.newestRequired() && x.maxSeq() > 0 && newest != x.maxSeq()) {
            throw new Refused("completeness", -1, "the newest input sequence " + x.maxSeq() + " is in no output "
                    + "(newest reported: " + (files.isEmpty() ? "none" : newest) + ")");
        }
        if (!x.newestRequired() && x.maxSeq() > 0 && files.isEmpty()) {
            // a compaction whose inputs hold entries: an empty result would delete them all; one that is
            // rightly empty (a bottommost range where everything was deleted) is left to a local run
            throw new EmptyResult("no outputs for inputs holding entries (up to sequence " + x.maxSeq() + ")");
        }
        return files;
    }

    /** The per-file checks: exists, size, CRC32C of the whole file, opens as a table with the reported properties. */
    private static void checkFile(FileSystem fs, Path dir, Reported r) throws Refused {
        OutputFile o = r.file();
        long n = o.number();
        Path path = dir.resolve(FileNames.table(n));
        try {
            if (!fs.exists(path)) {
                throw new Refused("exists", n, path + " does not exist");
            }
            long size = fs.size(path);
            if (size != o.size()) {
                throw new Refused("size", n, path + " has " + size + " bytes, reported " + o.size());
            }
            int crc;
            try (FileSystem.ReadableFile f = fs.newReadableFile(path)) {
                crc = Crc32c.ofFile(f);
            }
            if (crc != r.crc32c()) {
                throw new Refused("crc32c", n, path + " has CRC32C 0x" + Integer.toHexString(crc) + ", reported 0x"
                        + Integer.toHexString(r.crc32c()));
            }
            TableProperties props;
            try (TableReader t = TableReader.open(fs.newReadableFile(path), path.toString(), n)) {
                props = t.properties();
            }
            if (!Arrays.equals(props.smallestKey(), o.smallest()) || !Arrays.equals(props.largestKey(), o.largest())
                    || props.smallestSequence() != o.smallestSequence()
                    || props.largestSequence() != o.largestSequence() || props.fileSize() != o.size()) {
                throw new Refused("table", n, "the table's properties (" + props + ") differ from the reported "
                        + "keys, sequences " + o.smallestSequence() + ".." + o.largestSequence() + " or size "
                        + o.size());
            }
        } catch (IOException | RuntimeException ex) {
            throw new Refused("table", n, "cannot read " + path + " as a table: " + ex);
        }
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
