package io.o3lsm.internal.version;

import io.o3lsm.CorruptionException;
import io.o3lsm.internal.util.Coding;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One change to the set of live files and to the DB's counters: the payload of one MANIFEST record.
 * Fields are optional; a snapshot edit (the first record of every MANIFEST) sets all of them.
 * Encoding: a sequence of (varint tag, field) pairs, specified in {@code docs/format/manifest.md}.
 * Unknown tags are corruption (format versions ratchet; a newer writer bumps the log format version).
 *
 * <p>Not thread-safe; built by one thread, then handed to {@link VersionSet#logAndApply}.
 */
public final class VersionEdit {
    static final int TAG_COMPARATOR = 1;
    static final int TAG_LOG_NUMBER = 2;
    static final int TAG_NEXT_FILE_NUMBER = 3;
    static final int TAG_LAST_SEQUENCE = 4;
    static final int TAG_DELETED_FILE = 5;
    static final int TAG_NEW_FILE = 6;
    static final int TAG_SHARD_BOUNDARIES = 7;
    static final int TAG_RANGE_WATERMARK = 8;
    static final int TAG_EPOCH = 9;
    static final int TAG_FAMILIES = 10;
    static final int TAG_FAMILY_ADD = 11;
    static final int TAG_FAMILY_DROP = 12;
    static final int TAG_NEXT_FAMILY_ID = 13;

    /** Flag of a family whose values carry a write-time stamp (its options had a TTL when created). */
    public static final int FAMILY_FLAG_TTL = 1;

    /** A column family registered in the MANIFEST: id, name, flags ({@link #FAMILY_FLAG_TTL}). */
    public record Family(int id, String name, int flags) {
    }

    public static final String COMPARATOR = "o3lsm.bytewise";

    public String comparator;
    public Long logNumber;
    public Long nextFileNumber;
    public Long lastSequence;
    public Long epoch;
    /** Start keys of shard ranges 1..n-1 (n ranges); null when unchanged. */
    public List<byte[]> shardBoundaries;
    /** Range index → every entry of that shard range with sequence ≤ value is in an installed SST. */
    public final Map<Integer, Long> rangeWatermarks = new LinkedHashMap<>();
    public final List<long[]> deletedFiles = new ArrayList<>(); // {level, number}
    public final List<Map.Entry<Integer, FileMetaData>> newFiles = new ArrayList<>();
    /** True: the DB is family-aware (every key carries its family's prefix); set once, at creation. */
    public boolean families;
    public final List<Family> addedFamilies = new ArrayList<>();
    public final List<Integer> droppedFamilies = new ArrayList<>();
    /** The id the next created family gets (ids are never reused); null when unchanged. */
    public Integer nextFamilyId;

    public VersionEdit addFile(int level, FileMetaData f) {
        newFiles.add(Map.entry(level, f));
        return this;
    }

    public VersionEdit deleteFile(int level, long number) {
        deletedFiles.add(new long[] {level, number});
        return this;
    }

    public byte[] encode() {
        Out out = new Out();
        if (comparator != null) {
            out.varint(TAG_COMPARATOR);
            out.bytes(comparator.getBytes(StandardCharsets.UTF_8));
        }
        if (logNumber != null) {
            out.varint(TAG_LOG_NUMBER).varint(logNumber);
        }
        if (nextFileNumber != null) {
            out.varint(TAG_NEXT_FILE_NUMBER).varint(nextFileNumber);
        }
        if (lastSequence != null) {
            out.varint(TAG_LAST_SEQUENCE).varint(lastSequence);
        }
        if (epoch != null) {
            out.varint(TAG_EPOCH).varint(epoch);
        }
        if (shardBoundaries != null) {
            out.varint(TAG_SHARD_BOUNDARIES).varint(shardBoundaries.size());
            for (byte[] b : shardBoundaries) {
                out.bytes(b);
            }
        }
        if (families) {
            out.varint(TAG_FAMILIES).varint(1);
        }
        for (Family f : addedFamilies) {
            out.varint(TAG_FAMILY_ADD).varint(f.id()).bytes(f.name().getBytes(StandardCharsets.UTF_8))
                    .varint(f.flags());
        }
        for (int id : droppedFamilies) {
            out.varint(TAG_FAMILY_DROP).varint(id);
        }
        if (nextFamilyId != null) {
            out.varint(TAG_NEXT_FAMILY_ID).varint(nextFamilyId);
        }
        for (Map.Entry<Integer, Long> e : rangeWatermarks.entrySet()) {
            out.varint(TAG_RANGE_WATERMARK).varint(e.getKey()).varint(e.getValue());
        }
        for (long[] d : deletedFiles) {
            out.varint(TAG_DELETED_FILE).varint(d[0]).varint(d[1]);
        }
        for (Map.Entry<Integer, FileMetaData> e : newFiles) {
            FileMetaData f = e.getValue();
            out.varint(TAG_NEW_FILE).varint(e.getKey()).varint(f.number).varint(f.size);
            out.bytes(f.smallest).bytes(f.largest);
            out.varint(f.smallestSeq).varint(f.largestSeq);
        }
        return out.toByteArray();
    }

    /**
     * Decodes one edit.
     *
     * @param file   the MANIFEST's name, for errors
     * @param offset where the record starts in the file, for errors
     */
    public static VersionEdit decode(byte[] src, String file, long offset) {
        VersionEdit e = new VersionEdit();
        In in = new In(src, file, offset);
        while (in.pos[0] < src.length) {
            int tag = (int) in.varint("tag");
            switch (tag) {
                case TAG_COMPARATOR -> e.comparator = new String(in.bytes("comparator"), StandardCharsets.UTF_8);
                case TAG_LOG_NUMBER -> e.logNumber = in.varint("log number");
                case TAG_NEXT_FILE_NUMBER -> e.nextFileNumber = in.varint("next file number");
                case TAG_LAST_SEQUENCE -> e.lastSequence = in.varint("last sequence");
                case TAG_EPOCH -> e.epoch = in.varint("epoch");
                case TAG_SHARD_BOUNDARIES -> {
                    long n = in.varint("boundary count");
                    if (n > 255) {
                        throw in.corrupt("at most 255 shard boundaries", n + "");
                    }
                    List<byte[]> bs = new ArrayList<>();
                    for (int i = 0; i < n; i++) {
                        bs.add(in.bytes("shard boundary"));
                    }
                    e.shardBoundaries = bs;
                }
                case TAG_RANGE_WATERMARK -> e.rangeWatermarks.put((int) in.varint("range"), in.varint("watermark"));
                case TAG_DELETED_FILE -> e.deletedFiles.add(new long[] {in.level(), in.varint("file number")});
                case TAG_NEW_FILE -> {
                    int level = in.level();
                    long number = in.varint("file number");
                    long size = in.varint("file size");
                    byte[] smallest = in.bytes("smallest key");
                    byte[] largest = in.bytes("largest key");
                    long sseq = in.varint("smallest seq");
                    long lseq = in.varint("largest seq");
                    if (smallest.length < 8 || largest.length < 8) {
                        throw in.corrupt("internal keys of at least 8 bytes", smallest.length + "/" + largest.length);
                    }
                    e.newFiles.add(Map.entry(level, new FileMetaData(number, size, smallest, largest, sseq, lseq)));
                }
                case TAG_FAMILIES -> {
                    long v = in.varint("families flag");
                    if (v != 1) {
                        throw in.corrupt("families flag 1", Long.toString(v));
                    }
                    e.families = true;
                }
                case TAG_FAMILY_ADD -> {
                    int id = in.familyId();
                    String name = new String(in.bytes("family name"), StandardCharsets.UTF_8);
                    long flags = in.varint("family flags");
                    if (flags > FAMILY_FLAG_TTL) {
                        throw in.corrupt("family flags 0 or 1", Long.toString(flags));
                    }
                    e.addedFamilies.add(new Family(id, name, (int) flags));
                }
                case TAG_FAMILY_DROP -> e.droppedFamilies.add(in.familyId());
                case TAG_NEXT_FAMILY_ID -> e.nextFamilyId = in.familyId();
                default -> throw in.corrupt("a known VersionEdit tag (1..13)", "tag " + tag);
            }
        }
        return e;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("VersionEdit{");
        if (logNumber != null) {
            sb.append("log=").append(logNumber).append(' ');
        }
        if (nextFileNumber != null) {
            sb.append("next=").append(nextFileNumber).append(' ');
        }
        if (lastSequence != null) {
            sb.append("lastSeq=").append(lastSequence).append(' ');
        }
        if (epoch != null) {
            sb.append("epoch=").append(epoch).append(' ');
        }
        if (families) {
            sb.append("families ");
        }
        for (Family f : addedFamilies) {
            sb.append("+cf").append(f.id()).append('=').append(f.name()).append(' ');
        }
        for (int id : droppedFamilies) {
            sb.append("-cf").append(id).append(' ');
        }
        if (!rangeWatermarks.isEmpty()) {
            sb.append("watermarks=").append(rangeWatermarks).append(' ');
        }
        for (Map.Entry<Integer, FileMetaData> f : newFiles) {
            sb.append("+L").append(f.getKey()).append(f.getValue()).append(' ');
        }
        for (long[] d : deletedFiles) {
            sb.append("-L").append(d[0]).append('#').append(d[1]).append(' ');
        }
        return sb.append('}').toString();
    }

    private static final class Out extends ByteArrayOutputStream {
        private final byte[] tmp = new byte[Coding.MAX_VARINT64_BYTES];

        Out varint(long v) {
            int n = Coding.putVarint64(tmp, 0, v);
            write(tmp, 0, n);
            return this;
        }

        Out bytes(byte[] b) {
            varint(b.length);
            write(b, 0, b.length);
            return this;
        }
    }

    private static final class In {
        final byte[] src;
        final String file;
        final long base;
        final int[] pos = {0};

        In(byte[] src, String file, long base) {
            this.src = src;
            this.file = file;
            this.base = base;
        }

        long varint(String what) {
            long v = Coding.getVarint64(src, pos, src.length);
            if (v < 0) {
                throw corrupt("a varint " + what, "malformed or truncated bytes");
            }
            return v;
        }

        int level() {
            long l = varint("level");
            if (l >= Version.NUM_LEVELS) {
                throw corrupt("a level in [0, " + (Version.NUM_LEVELS - 1) + "]", Long.toString(l));
            }
            return (int) l;
        }

        int familyId() {
            long v = varint("family id");
            if (v > Integer.MAX_VALUE) {
                throw corrupt("a family id below 2^31", Long.toString(v));
            }
            return (int) v;
        }

        byte[] bytes(String what) {
            long n = varint(what + " length");
            if (n > src.length - pos[0]) {
                throw corrupt(what + " of " + n + " bytes", (src.length - pos[0]) + " bytes left in the record");
            }
            byte[] b = java.util.Arrays.copyOfRange(src, pos[0], pos[0] + (int) n);
            pos[0] += (int) n;
            return b;
        }

        CorruptionException corrupt(String expected, String found) {
            return new CorruptionException(file, base, "VersionEdit byte " + pos[0] + ": expected " + expected
                    + ", found " + found);
        }
    }
}
