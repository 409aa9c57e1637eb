package io.o3lsm.examples;

import io.o3lsm.DB;
import io.o3lsm.MergeOperator;
import io.o3lsm.MergeOperators;
import io.o3lsm.Options;
import io.o3lsm.WriteBatch;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/** The examples of docs/merge-operators.md, compiled and run by DocsExampleTest. */
final class MergeExample {
    private MergeExample() {
    }

    /** Counts page views; returns the count of /home. */
    static long counters(Path dir) {
        // DOCS:merge-operators/counters begin
        Options options = Options.defaults().mergeOperator(MergeOperators.int64Add());
        try (DB db = DB.open(dir, options)) {
            byte[] key = "views:/home".getBytes(StandardCharsets.UTF_8);
            db.merge(key, MergeOperators.int64(1));          // no read on the write path
            db.merge(key, MergeOperators.int64(1));
            try (WriteBatch batch = new WriteBatch()) {      // merges in a batch, atomic with the rest
                batch.merge(key, MergeOperators.int64(40)).put("last".getBytes(StandardCharsets.UTF_8), key);
                db.write(batch);
            }
            return MergeOperators.int64(db.get(key));        // 42
        }
        // DOCS:merge-operators/counters end
    }

    // DOCS:merge-operators/operator begin
    /** Keeps the largest 8-byte value seen: a max register. */
    public static final class MaxOperator implements MergeOperator {
        @Override
        public String name() {
            return "example.max";                              // jobs carry this name to workers
        }

        @Override
        public byte[] fullMerge(byte[] key, byte[] existing, List<byte[]> operands) {
            long max = existing == null ? Long.MIN_VALUE : MergeOperators.int64(existing);
            for (byte[] operand : operands) {                  // oldest first
                max = Math.max(max, MergeOperators.int64(operand));
            }
            return MergeOperators.int64(max);
        }

        @Override
        public byte[] partialMerge(byte[] key, List<byte[]> operands) {
            return fullMerge(key, null, operands);             // max is associative: operands combine alone
        }
    }
    // DOCS:merge-operators/operator end

    /** Uses the custom operator; returns the maximum. */
    static long max(Path dir) {
        // DOCS:merge-operators/use begin
        try (DB db = DB.open(dir, Options.defaults().mergeOperator(new MaxOperator()))) {
            byte[] key = "peak".getBytes(StandardCharsets.UTF_8);
            for (long sample : new long[] {3, 17, 5}) {
                db.merge(key, MergeOperators.int64(sample));
            }
            db.flush();                                        // flushes and compactions combine operands too
            return MergeOperators.int64(db.get(key));          // 17
        }
        // DOCS:merge-operators/use end
    }
}
