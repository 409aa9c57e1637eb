package io.o3lsm.testing;

import io.o3lsm.MergeOperator;
import io.o3lsm.MergeOperators;
import java.util.List;

/**
 * {@link MergeOperators#int64Add()} under another name: a test operator that a worker finds only if
 * a {@code META-INF/services/io.o3lsm.MergeOperator} entry names its class (a subclass with a public
 * no-argument constructor), or not at all.
 */
public class NamedInt64Add implements MergeOperator {
    private final String name;

    public NamedInt64Add(String name) {
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public byte[] fullMerge(byte[] key, byte[] existing, List<byte[]> operands) {
        return MergeOperators.int64Add().fullMerge(key, existing, operands);
    }

    @Override
    public byte[] partialMerge(byte[] key, List<byte[]> operands) {
        return MergeOperators.int64Add().partialMerge(key, operands);
    }
}
