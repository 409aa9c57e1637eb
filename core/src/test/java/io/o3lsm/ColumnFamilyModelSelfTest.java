package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.o3lsm.ColumnFamilyModelState.Kind;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Tests of {@link ColumnFamilyModelTest}'s checks themselves: a DB broken on purpose between the
 * harness and the engine ({@link Bug}) must make the run fail with a failed check (an
 * {@link AssertionError}), not pass and not die of something else. The unbroken engine passing is
 * {@link ColumnFamilyModelTest}'s own job. Fixed seed, short runs.
 */
class ColumnFamilyModelSelfTest {
    private static final long SEED = 20261207L;
    private static final int ITERATIONS = 120;

    @TempDir
    Path dir;

    /** Faults a wrapper injects; each must be caught. */
    enum Bug {
        /** A put into the family "plain" also lands in the modelled family. */
        PLAIN_PUT_LEAKS_INTO_MODELLED,
        /** A put into the modelled family also lands in the family "plain". */
        MODELLED_PUT_LEAKS_INTO_PLAIN,
        /** Reads of families other than the modelled one ignore the snapshot. */
        SNAPSHOT_IGNORED_IN_OTHER_FAMILIES,
        /** Iterators over families other than the modelled one ignore the upper bound. */
        UPPER_BOUND_IGNORED_IN_OTHER_FAMILIES,
        /** A multiGet naming several families reads every key in the first one. */
        MULTIGET_READS_THE_FIRST_FAMILY_ONLY,
        /** A get through a dropped (or stale) handle answers null instead of refusing it. */
        DROPPED_HANDLE_READS_AS_EMPTY
    }

    @ParameterizedTest
    @EnumSource(Bug.class)
    void shouldCatchInjectedBug(Bug bug) {
        Options options = ColumnFamilyModelTest.OptionSet.tiny().writeBufferSize(1 << 20);
        AssertionError e = assertThrows(AssertionError.class, () -> ColumnFamilyModelTest.runSet("self-test-" + bug,
                dir.resolve("db"), options, false, Kind.APPEND, SEED, ITERATIONS, db -> new Broken(db, bug),
                "(self-test)", false), bug + " went unnoticed");
        assertInstanceOf(AssertionError.class, e.getCause(), () -> bug + " failed the run by something other than a "
                + "check: " + e.getCause());
        System.out.println(bug + " caught: " + e.getCause().getMessage().lines().findFirst().orElse(""));
    }

    /** A DB that forwards every call, except where its {@link Bug} says otherwise. */
    private static final class Broken implements DB {
        private final DB in;
        private final Bug bug;

        Broken(DB in, Bug bug) {
            this.in = in;
            this.bug = bug;
        }

        private boolean modelled(ColumnFamilyHandle cf) {
            return cf != null && cf.name().equals(ColumnFamilyModelHarness.MODELLED);
        }

        @Override
        public void put(ColumnFamilyHandle cf, byte[] key, byte[] value, WriteOptions options) {
            in.put(cf, key, value, options);
            if (bug == Bug.PLAIN_PUT_LEAKS_INTO_MODELLED && cf.name().equals("plain")) {
                in.put(in.columnFamily(ColumnFamilyModelHarness.MODELLED), key, value, options);
            }
            if (bug == Bug.MODELLED_PUT_LEAKS_INTO_PLAIN && modelled(cf) && in.columnFamily("plain") != null) {
                in.put(in.columnFamily("plain"), key, value, options);
            }
        }

        @Override
        public byte[] get(ReadOptions options, ColumnFamilyHandle cf, byte[] key) {
            if (bug == Bug.SNAPSHOT_IGNORED_IN_OTHER_FAMILIES && !modelled(cf)) {
                return in.get(options.copy().snapshot(null), cf, key);
            }
            if (bug == Bug.DROPPED_HANDLE_READS_AS_EMPTY) {
                try {
                    return in.get(options, cf, key);
                } catch (IllegalArgumentException e) {
                    return null;
                }
            }
            return in.get(options, cf, key);
        }

        @Override
        public List<byte[]> multiGet(ReadOptions options, List<ColumnFamilyHandle> families, List<byte[]> keys) {
            if (bug == Bug.SNAPSHOT_IGNORED_IN_OTHER_FAMILIES && !families.stream().allMatch(this::modelled)) {
                return in.multiGet(options.copy().snapshot(null), families, keys);
            }
            if (bug == Bug.MULTIGET_READS_THE_FIRST_FAMILY_ONLY && !families.isEmpty()) {
                List<ColumnFamilyHandle> first = new ArrayList<>();
                for (int i = 0; i < families.size(); i++) {
                    first.add(families.get(0));
                }
                return in.multiGet(options, first, keys);
            }
            return in.multiGet(options, families, keys);
        }

        @Override
        public DBIterator iterator(ReadOptions options, ColumnFamilyHandle cf) {
            if (bug == Bug.SNAPSHOT_IGNORED_IN_OTHER_FAMILIES && !modelled(cf)) {
                return in.iterator(options.copy().snapshot(null), cf);
            }
            if (bug == Bug.UPPER_BOUND_IGNORED_IN_OTHER_FAMILIES && !modelled(cf)) {
                return in.iterator(options.copy().upperBound(null), cf);
            }
            return in.iterator(options, cf);
        }

        // ---------------------------------------------------------------- forwarded as they are

        @Override
        public ColumnFamilyHandle createColumnFamily(String name, ColumnFamilyOptions options) {
            return in.createColumnFamily(name, options);
        }

        @Override
        public void dropColumnFamily(ColumnFamilyHandle family) {
            in.dropColumnFamily(family);
        }

        @Override
        public List<String> listColumnFamilies() {
            return in.listColumnFamilies();
        }

        @Override
        public ColumnFamilyHandle columnFamily(String name) {
            return in.columnFamily(name);
        }

        @Override
        public ColumnFamilyHandle defaultColumnFamily() {
            return in.defaultColumnFamily();
        }

        @Override
        public void delete(ColumnFamilyHandle cf, byte[] key, WriteOptions options) {
            in.delete(cf, key, options);
        }

        @Override
        public void deleteRange(ColumnFamilyHandle cf, byte[] from, byte[] to, WriteOptions options) {
            in.deleteRange(cf, from, to, options);
        }

        @Override
        public void merge(ColumnFamilyHandle cf, byte[] key, byte[] operand, WriteOptions options) {
            in.merge(cf, key, operand, options);
        }

        @Override
        public void compactRange(ColumnFamilyHandle cf, byte[] from, byte[] to) {
            in.compactRange(cf, from, to);
        }

        @Override
        public void put(byte[] key, byte[] value) {
            in.put(key, value);
        }

        @Override
        public void put(byte[] key, byte[] value, WriteOptions options) {
            in.put(key, value, options);
        }

        @Override
        public void put(ByteBuffer key, ByteBuffer value) {
            in.put(key, value);
        }

        @Override
        public void put(ByteBuffer key, ByteBuffer value, WriteOptions options) {
            in.put(key, value, options);
        }

        @Override
        public byte[] get(byte[] key) {
            return in.get(key);
        }

        @Override
        public int get(ByteBuffer key, ByteBuffer value) {
            return in.get(key, value);
        }

        @Override
        public void delete(byte[] key) {
            in.delete(key);
        }

        @Override
        public void delete(byte[] key, WriteOptions options) {
            in.delete(key, options);
        }

        @Override
        public void deleteRange(byte[] fromInclusive, byte[] toExclusive) {
            in.deleteRange(fromInclusive, toExclusive);
        }

        @Override
        public void deleteRange(byte[] fromInclusive, byte[] toExclusive, WriteOptions options) {
            in.deleteRange(fromInclusive, toExclusive, options);
        }

        @Override
        public void merge(byte[] key, byte[] operand) {
            in.merge(key, operand);
        }

        @Override
        public void merge(byte[] key, byte[] operand, WriteOptions options) {
            in.merge(key, operand, options);
        }

        @Override
        public void write(WriteBatch batch, WriteOptions options) {
            in.write(batch, options);
        }

        @Override
        public Transaction beginTransaction(WriteOptions options, TransactionOptions txnOptions) {
            return in.beginTransaction(options, txnOptions);
        }

        @Override
        public byte[] get(ReadOptions options, byte[] key) {
            return in.get(options, key);
        }

        @Override
        public List<byte[]> multiGet(ReadOptions options, List<byte[]> keys) {
            return in.multiGet(options, keys);
        }

        @Override
        public DBIterator iterator(ReadOptions options) {
            return in.iterator(options);
        }

        @Override
        public Snapshot snapshot() {
            return in.snapshot();
        }

        @Override
        public void flush() {
            in.flush();
        }

        @Override
        public void flushWal(boolean sync) {
            in.flushWal(sync);
        }

        @Override
        public void compactRange(byte[] from, byte[] to) {
            in.compactRange(from, to);
        }

        @Override
        public String property(String name) {
            return in.property(name);
        }

        @Override
        public DBStats stats() {
            return in.stats();
        }

        @Override
        public void close() {
            in.close();
        }
    }
}
