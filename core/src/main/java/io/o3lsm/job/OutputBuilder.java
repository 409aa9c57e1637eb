package io.o3lsm.job;

import io.o3lsm.format.InternalIterator;
import io.o3lsm.format.InternalKey;
import io.o3lsm.format.RangeTombstone;
import io.o3lsm.format.RangeTombstoneSet;
import io.o3lsm.format.table.TableBuilder;
import io.o3lsm.format.table.TableOptions;
import io.o3lsm.format.table.TableProperties;
import io.o3lsm.internal.db.FileNames;
import io.o3lsm.internal.util.Bytes;
import io.o3lsm.spi.CompactionExecutor.OutputFile;
import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import io.o3lsm.CompactionFilter;
import io.o3lsm.MergeOperator;
import io.o3lsm.O3Exception;
import io.o3lsm.internal.util.Merges;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Writes the output SSTs of a flush or compaction: point entries arrive in internal-key order and
 * files are cut near the target size, only where a new user key starts, so outputs never share a
 * user key. Range tombstones are split along the same cuts: file i receives the part of each
 * tombstone inside {@code [cut(i-1), cut(i))} (the first file from minus infinity, the last to plus
 * infinity), so outputs stay disjoint and together cover every tombstone. Outputs are synced.
 * Not thread-safe.
 */
final class OutputBuilder {
    private final FileSystem fs;
    private final Path dir;
    private final TableOptions tableOptions;
    private final long targetFileSize;
    private final LongSupplier fileNumbers;
    private final List<RangeTombstone> tombstones;
    /** Numbers of files created (for cleanup if the job fails). */
    final List<Long> created = new ArrayList<>();
    private final List<OutputFile> outputs = new ArrayList<>();
    long bytesWritten;

    private long number;
    private FileSystem.WritableFile file;
    private TableBuilder builder;
    private byte[] lowerCut; // null = minus infinity
    private final BooleanSupplier cancelled;
    /** Create outputs with {@link FileSystem#newWritableFileExclusive} (an offloaded flush: never overwrite). */
    private final boolean exclusive;
    private int sinceCancelCheck;

    /** Entries added between two polls of the cancellation signal. */
    static final int CANCEL_CHECK_INTERVAL = 1024;

    OutputBuilder(FileSystem fs, Path dir, TableOptions tableOptions, long targetFileSize, LongSupplier fileNumbers,
            List<RangeTombstone> tombstones) {
        this(fs, dir, tableOptions, targetFileSize, fileNumbers, tombstones, false, () -> false);
    }

    /** As below, creating outputs with {@link FileSystem#newWritableFile} (truncating). */
    OutputBuilder(FileSystem fs, Path dir, TableOptions tableOptions, long targetFileSize, LongSupplier fileNumbers,
            List<RangeTombstone> tombstones, BooleanSupplier cancelled) {
        this(fs, dir, tableOptions, targetFileSize, fileNumbers, tombstones, false, cancelled);
    }

    /**
     * {@link #writeNewestPerStripe} throws {@link JobCancelledException} once {@code cancelled} is
     * true; {@code exclusive} creates each output with {@link FileSystem#newWritableFileExclusive}, so
     * an output whose file exists fails the job with {@link java.nio.file.FileAlreadyExistsException}
     * (and that file, not being this job's, is left alone by {@link #abandon}).
     */
    OutputBuilder(FileSystem fs, Path dir, TableOptions tableOptions, long targetFileSize, LongSupplier fileNumbers,
            List<RangeTombstone> tombstones, boolean exclusive, BooleanSupplier cancelled) {
        this.cancelled = cancelled;
        this.exclusive = exclusive;
        this.fs = fs;
        this.dir = dir;
        this.tableOptions = tableOptions;
        this.targetFileSize = targetFileSize;
        this.fileNumbers = fileNumbers;
        this.tombstones = tombstones;
    }

    /**
     * A family-aware DB's table options by family id (null: a DB without families): outputs are then
     * cut where the family changes, each written with its family's options.
     */
    private java.util.Map<Integer, TableOptions> familyOptions;
    /** The family of the current output's keys (family-aware DBs only). */
    private int currentFamily = -1;

    /** The prefix of {@link #currentFamily} (null before the first family). */
    private byte[] currentPrefix;
    /** The families of the range tombstones, by prefix in key order (each gets outputs of its own). */
    private java.util.TreeMap<byte[], Integer> tombstoneFamilies;

    /** Cuts outputs at family boundaries, each family's with its table options (none given: no effect). */
    void familyTables(List<io.o3lsm.spi.CompactionExecutor.FamilyTable> tables) {
        if (tables == null || tables.isEmpty()) {
            return;
        }
        familyOptions = new java.util.HashMap<>();
        for (io.o3lsm.spi.CompactionExecutor.FamilyTable t : tables) {
            familyOptions.put(t.family(), new TableOptions(tableOptions.blockSize(), tableOptions.restartInterval(),
                    t.compression(), t.bloomBitsPerKey()));
        }
        tombstoneFamilies = new java.util.TreeMap<>(Bytes::compare);
        for (RangeTombstone t : tombstones) {
            int family = io.o3lsm.internal.util.FamilyFunctions.familyOf(t.start);
            if (family >= 0) { // a tombstone lies within one family: its end is the family's too, or its end
                tombstoneFamilies.put(io.o3lsm.internal.util.FamilyFunctions.prefix(family), family);
            }
        }
    }

    /**
     * The output goes on with the keys of {@code family} (prefix {@code prefix}): the current output
     * ends, and so does one for each family in between that only range tombstones reach, so that no
     * output holds two families' keys or tombstones.
     */
    private void enterFamily(int family, byte[] prefix) throws IOException {
        java.util.SortedMap<byte[], Integer> between = currentPrefix == null ? tombstoneFamilies.headMap(prefix)
                : tombstoneFamilies.subMap(currentPrefix, false, prefix, false);
        for (Map.Entry<byte[], Integer> g : new ArrayList<>(between.entrySet())) {
            cutAt(g.getKey());
            currentFamily = g.getValue();
            currentPrefix = g.getKey();
        }
        cutAt(prefix);
        currentFamily = family;
        currentPrefix = prefix;
    }

    /** Ends the current output (if any) at {@code bound}: later outputs start there. */
    private void cutAt(byte[] bound) throws IOException {
        if (lowerCut != null && Bytes.compare(bound, lowerCut) <= 0) {
            return;
        }
        finishFile(bound);
        lowerCut = bound;
    }

    /** Whether a new user key starting now should begin a new file. */
    boolean wantsCut() {
        return builder != null && builder.estimatedFileSize() >= targetFileSize;
    }

    /** Ends the current file just before {@code userKey} (which is the next entry's user key). */
    void cut(byte[] userKey) throws IOException {
        finishFile(userKey);
        lowerCut = userKey;
    }

    /** Polls the cancellation signal every {@link #CANCEL_CHECK_INTERVAL} calls (one per entry read). */
    private void checkCancelled() throws JobCancelledException {
        if (++sinceCancelCheck >= CANCEL_CHECK_INTERVAL) {
            sinceCancelCheck = 0;
            if (cancelled.getAsBoolean()) {
                throw new JobCancelledException("job cancelled after " + bytesWritten + " bytes written to "
                        + created.size() + " output file(s), which are deleted");
            }
        }
    }

    void add(DirectBuffer key, int klen, DirectBuffer value) throws IOException {
        if (builder == null) {
            startFile();
        }
        builder.add(key, 0, klen, value, 0, value.capacity());
    }

    private void startFile() throws IOException {
        number = fileNumbers.getAsLong();
        Path p = dir.resolve(FileNames.table(number));
        file = exclusive ? fs.newWritableFileExclusive(p) : fs.newWritableFile(p);
        created.add(number); // only once it is ours: abandon() must not delete a file another attempt made
        TableOptions opts = familyOptions == null ? tableOptions : familyOptions.getOrDefault(currentFamily, tableOptions);
        builder = new TableBuilder(file, p.toString(), opts);
    }

    /** Adds the tombstone parts inside {@code [lowerCut, upper)} and finishes the current file. */
    private void finishFile(byte[] upper) throws IOException {
        for (RangeTombstone t : tombstones) {
            byte[] s = t.start;
            byte[] e = t.end;
            if (lowerCut != null && Bytes.compare(s, lowerCut) < 0) {
                s = lowerCut;
            }
            if (upper != null && Bytes.compare(e, upper) > 0) {
                e = upper;
            }
            if (Bytes.compare(s, e) < 0) {
                if (builder == null) {
                    startFile();
                }
                builder.addRangeTombstone(s, e, t.sequence);
            }
        }
        if (builder == null) {
            return;
        }
        TableProperties props = builder.finish();
        file.sync();
        file.close();
        bytesWritten += props.fileSize();
        outputs.add(new OutputFile(number, props.fileSize(), props.smallestKey(), props.largestKey(),
                props.smallestSequence(), props.largestSequence()));
        builder = null;
        file = null;
    }

    /** Finishes the last file and syncs the directory; returns every output. */
    List<OutputFile> finish() throws IOException {
        if (tombstoneFamilies != null && !tombstoneFamilies.isEmpty()) {
            // families after the last key's that only range tombstones reach: outputs of their own
            java.util.SortedMap<byte[], Integer> after = currentPrefix == null ? tombstoneFamilies
                    : tombstoneFamilies.tailMap(currentPrefix, false);
            for (Map.Entry<byte[], Integer> g : new ArrayList<>(after.entrySet())) {
                cutAt(g.getKey());
                currentFamily = g.getValue();
                currentPrefix = g.getKey();
            }
        }
        finishFile(null);
        if (!outputs.isEmpty()) {
            fs.syncDirectory(dir);
        }
        return outputs;
    }

    /** Closes and deletes whatever was written; used when the job failed before install. */
    void abandon() {
        if (file != null) {
            try {
                file.close();
            } catch (IOException ignored) {
                // being discarded
            }
        }
        for (long n : created) {
            try {
                fs.delete(dir.resolve(FileNames.table(n)));
            } catch (IOException ignored) {
                // orphans are also collected at the next open
            }
        }
    }

    static boolean sameUserKey(DirectBuffer k, int ulen, byte[] prev, int prevLen) {
        return prevLen == ulen && Bytes.compare(k, 0, ulen, prev, 0, prevLen) == 0;
    }

    /**
     * Writes a merge of flush or compaction inputs: for each user key the newest entry of every
     * snapshot stripe (the newest entry, plus the newest one visible to each live snapshot), minus
     * point tombstones that may go at the bottom level ({@code dropTombstonesUpTo}: tombstones with
     * a sequence at or below it are dropped; -1 keeps all, and means the inputs may not hold the
     * keys' oldest data) and entries a range tombstone covers in their stripe. Range-tombstone
     * entries (memtables store them as entries) are skipped: they travel in each output's own block.
     * Outputs are cut at user-key boundaries.
     *
     * <p>Merge operands: when the newest entry of a stripe is an operand, the stripe's older operands
     * belong to it too. With a base in the stripe (a value, a deletion, a covering range tombstone),
     * or none anywhere older ({@code dropTombstonesUpTo >= 0} and the key's last entry), they become
     * one value, {@code mergeOperator}'s full merge, at the newest operand's sequence; otherwise a
     * partial merge makes them one operand, and failing that (or with no operator) every operand is
     * kept as it is.
     *
     * @param snapshots     sequences that must stay readable, ascending
     * @param covering      the range tombstones whose covered entries are dropped
     * @param mergeCovering the range tombstones that end a stripe's operands (every tombstone of
     *                      the inputs: an operand below one must not be combined with those above)
     */
    void writeNewestPerStripe(InternalIterator it, long[] snapshots, long dropTombstonesUpTo,
            RangeTombstoneSet covering, RangeTombstoneSet mergeCovering, MergeOperator mergeOperator)
            throws IOException {
        writeNewestPerStripe(it, snapshots, dropTombstonesUpTo, covering, mergeCovering, mergeOperator, null);
    }

    /**
     * As above, applying {@code filter} (null: none) to each user key's newest value of every stripe
     * above {@link JobFilter#newestSnapshot}: point values, and values a full merge produced. Entries
     * a live snapshot can read (at or below it) are never filtered. {@link CompactionFilter.Decision}
     * REMOVE writes a deletion at the value's sequence (dropped at once where a deletion may go:
     * {@code seq <= dropTombstonesUpTo}), CHANGE the new value at the value's sequence.
     *
     * @throws O3Exception the filter threw, or returned null or a value above
     *                     {@link io.o3lsm.DB#MAX_VALUE_SIZE} (naming the filter and the key)
     */
    void writeNewestPerStripe(InternalIterator it, long[] snapshots, long dropTombstonesUpTo,
            RangeTombstoneSet covering, RangeTombstoneSet mergeCovering, MergeOperator mergeOperator,
            JobFilter filter) throws IOException {
        this.filter = filter;
        this.dropUpTo = dropTombstonesUpTo;
        this.filterCovering = mergeCovering;
        this.filterSnapshots = snapshots;
        byte[] prevUser = new byte[64];
        int prevUserLen = -1;
        int prevStripe = -1;
        byte[] userKey = new byte[64];
        boolean bottom = dropTombstonesUpTo >= 0;
        PendingMerge pm = new PendingMerge();
        for (it.seekToFirst(); it.isValid(); it.next()) {
            checkCancelled(); // per entry read, written or not: a job dropping a deleted range stops too
            DirectBuffer k = it.key();
            int klen = k.capacity();
            int ulen = klen - InternalKey.TRAILER_SIZE;
            long trailer = InternalKey.trailer(k, 0, klen);
            int type = InternalKey.typeOf(trailer);
            if (type == InternalKey.TYPE_RANGE_DELETION) {
                continue;
            }
            long seq = InternalKey.sequenceOf(trailer);
            int stripe = RangeTombstoneSet.stripe(seq, snapshots);
            boolean sameUser = sameUserKey(k, ulen, prevUser, prevUserLen);
            if (sameUser && stripe == prevStripe) {
                if (pm.open) {
                    // an older entry of the stripe whose newest is an operand: another operand, or the base
                    // same user key as the stripe's newest entry: prevUser holds it, no copy needed
                    boolean covered = !mergeCovering.isEmpty()
                            && mergeCovering.coversInStripe(prevUser, 0, ulen, seq, snapshots);
                    if (seq >= pm.lastSeq) {
                        continue; // the same entry met again in another input: used once
                    }
                    pm.lastSeq = seq;
                    if (type == InternalKey.TYPE_MERGE && !covered) {
                        pm.operands.add(copyValue(it.value()));
                        pm.keys.add(copyKey(k));
                    } else if (Merges.absent(mergeOperator, pm.user)) {
                        pm.keepAll(); // nothing combines them: the operands stay, and so does their base
                        if (!covered) {
                            emit(k, klen, it.value(), prevUser, ulen);
                        }
                    } else {
                        // a value, or nothing (a deletion; an entry a range tombstone covers)
                        pm.resolve(type == InternalKey.TYPE_VALUE && !covered ? copyValue(it.value()) : null,
                                mergeOperator);
                    }
                }
                continue; // shadowed by a newer entry no reader can tell apart
            }
            if (pm.open) {
                pm.finish(!sameUser && bottom, mergeOperator); // the stripe (or the key) ended without a base
            }
            if (!sameUser) {
                if (prevUser.length < ulen) {
                    prevUser = new byte[Math.max(ulen, prevUser.length * 2)];
                }
                k.getBytes(0, prevUser, 0, ulen);
                prevUserLen = ulen;
                userEmitted = false;
            }
            prevStripe = stripe;
            boolean drop = type == InternalKey.TYPE_DELETION && seq <= dropTombstonesUpTo;
            if (!drop && !covering.isEmpty()) {
                if (userKey.length < ulen) {
                    userKey = new byte[Math.max(ulen, userKey.length * 2)];
                }
                k.getBytes(0, userKey, 0, ulen);
                drop = covering.coversInStripe(userKey, 0, ulen, seq, snapshots);
            }
            if (drop) {
                continue;
            }
            if (type == InternalKey.TYPE_MERGE) {
                pm.start(copyKey(k), copyValue(it.value()), java.util.Arrays.copyOf(prevUser, ulen));
                continue;
            }
            if (type == InternalKey.TYPE_VALUE && filter != null && seq > filter.newestSnapshot()) {
                emitFiltered(copyKey(k), copyValue(it.value()), java.util.Arrays.copyOf(prevUser, ulen), seq);
                continue;
            }
            emit(k, klen, it.value(), prevUser, ulen);
        }
        if (pm.open) {
            pm.finish(bottom, mergeOperator);
        }
    }

    /** The filter of the current {@link #writeNewestPerStripe} call, or null. */
    private JobFilter filter;
    private long dropUpTo;
    /** The range tombstones and snapshots of the call: a value a tombstone covers is never shown to the filter. */
    private RangeTombstoneSet filterCovering = RangeTombstoneSet.EMPTY;
    private long[] filterSnapshots = new long[0];
    private static final byte[] EMPTY = new byte[0];

    /** Writes the newest value {@code value} of its stripe as {@link #filter} decides. */
    private void emitFiltered(byte[] internalKey, byte[] value, byte[] user, long seq) throws IOException {
        if (!filterCovering.isEmpty() && filterCovering.coversInStripe(user, 0, user.length, seq, filterSnapshots)) {
            // deleted by a range deletion (a flush keeps such values, the tombstone hides them): not the filter's
            emit(new UnsafeBuffer(internalKey), internalKey.length, new UnsafeBuffer(value), user, user.length);
            return;
        }
        CompactionFilter.Decision d;
        try {
            d = filter.filter().filter(filter.context(), user, value);
        } catch (RuntimeException ex) {
            throw new O3Exception("compaction filter " + filterName() + " threw on key " + hex(user) + ": " + ex, ex);
        }
        if (d == null) {
            throw new O3Exception("compaction filter " + filterName() + " returned null for key " + hex(user));
        }
        switch (d.kind()) {
            case KEEP -> emit(new UnsafeBuffer(internalKey), internalKey.length, new UnsafeBuffer(value), user,
                    user.length);
            case REMOVE -> {
                if (seq <= dropUpTo) {
                    return; // a deletion every reader sees, at the bottom: nothing older remains to hide
                }
                byte[] k = internalKey.clone();
                io.o3lsm.internal.util.Coding.putFixed64(k, k.length - InternalKey.TRAILER_SIZE,
                        InternalKey.trailer(seq, InternalKey.TYPE_DELETION));
                emit(new UnsafeBuffer(k), k.length, new UnsafeBuffer(EMPTY), user, user.length);
            }
            case CHANGE -> {
                byte[] v = d.newValue();
                if (v.length > io.o3lsm.DB.MAX_VALUE_SIZE) {
                    throw new O3Exception("compaction filter " + filterName() + " changed key " + hex(user)
                            + " to a value of " + v.length + " bytes, above " + io.o3lsm.DB.MAX_VALUE_SIZE);
                }
                emit(new UnsafeBuffer(internalKey), internalKey.length, new UnsafeBuffer(v), user, user.length);
            }
        }
    }

    private String filterName() {
        try {
            return "\"" + filter.filter().name() + "\"";
        } catch (RuntimeException ex) {
            return filter.filter().getClass().getName();
        }
    }

    private static String hex(byte[] key) {
        String h = java.util.HexFormat.of().formatHex(key, 0, Math.min(key.length, 64));
        return key.length > 64 ? h + "... (" + key.length + " bytes)" : h;
    }

    /** Whether this output has had an entry of the current user key (outputs are cut only between keys). */
    private boolean userEmitted;

    private void emit(DirectBuffer k, int klen, DirectBuffer value, byte[] user, int ulen) throws IOException {
        if (!userEmitted) {
            boolean newFamily = false;
            if (familyOptions != null) {
                int family = io.o3lsm.internal.util.FamilyFunctions.familyOf(user, ulen);
                newFamily = family != currentFamily;
                if (newFamily) {
                    enterFamily(family, io.o3lsm.internal.util.FamilyFunctions.prefix(Math.max(0, family)));
                }
            }
            if (!newFamily && wantsCut()) {
                cut(java.util.Arrays.copyOf(user, ulen));
            }
            userEmitted = true;
        }
        add(k, klen, value);
    }

    private static byte[] copyValue(DirectBuffer v) {
        byte[] b = new byte[v.capacity()];
        v.getBytes(0, b);
        return b;
    }

    private static byte[] copyKey(DirectBuffer k) {
        byte[] b = new byte[k.capacity()];
        k.getBytes(0, b);
        return b;
    }

    /** The operands of one stripe of one key, newest first, while their base is looked for. */
    private final class PendingMerge {
        boolean open;
        byte[] user;
        /** The sequence of the last entry of the key used. */
        long lastSeq;
        final List<byte[]> keys = new ArrayList<>();
        final List<byte[]> operands = new ArrayList<>();

        void start(byte[] internalKey, byte[] operand, byte[] userKey) {
            open = true;
            user = userKey;
            lastSeq = InternalKey.sequenceOf(InternalKey.trailer(internalKey));
            keys.clear();
            operands.clear();
            keys.add(internalKey);
            operands.add(operand);
        }

        /** A base was found in the stripe ({@code base} null: nothing below): one value. */
        void resolve(byte[] base, MergeOperator op) throws IOException {
            writeValue(Merges.full(op, user, base, oldestFirst(operands)));
        }

        /** The stripe ended with no base; {@code nothingOlder}: no older entry of the key exists anywhere. */
        void finish(boolean nothingOlder, MergeOperator op) throws IOException {
            if (Merges.absent(op, user)) {
                keepAll();
                return;
            }
            if (nothingOlder) {
                writeValue(Merges.full(op, user, null, oldestFirst(operands)));
                return;
            }
            if (operands.size() > 1) {
                byte[] one = Merges.partial(op, user, oldestFirst(operands));
                if (one != null) {
                    write(keys.get(0), one);
                    open = false;
                    return;
                }
            }
            keepAll();
        }

        private void writeValue(byte[] value) throws IOException {
            byte[] k = keys.get(0).clone();
            long t = InternalKey.trailer(k);
            long seq = InternalKey.sequenceOf(t);
            io.o3lsm.internal.util.Coding.putFixed64(k, k.length - InternalKey.TRAILER_SIZE,
                    InternalKey.trailer(seq, InternalKey.TYPE_VALUE));
            open = false;
            if (filter != null && seq > filter.newestSnapshot()) {
                emitFiltered(k, value, user, seq);
            } else {
                write(k, value);
            }
        }

        void keepAll() throws IOException {
            for (int i = 0; i < keys.size(); i++) {
                write(keys.get(i), operands.get(i));
            }
            open = false;
        }

        private void write(byte[] internalKey, byte[] value) throws IOException {
            emit(new UnsafeBuffer(internalKey), internalKey.length, new UnsafeBuffer(value), user, user.length);
        }

        private List<byte[]> oldestFirst(List<byte[]> newestFirst) {
            List<byte[]> r = new ArrayList<>(newestFirst);
            java.util.Collections.reverse(r);
            return r;
        }
    }
}
