package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/**
 * A flush may have picked a shard that was rebuilt from the WAL in its place, and the rebuilt copy
 * rebuilt again (two node losses during one flush): the flush's install must still recognise what
 * the view holds as standing for its input.
 */
class RebuiltShardChainTest {
    @Test
    void aShardRebuiltTwiceStillStandsForTheFlushInput() {
        MemShard input = MemtableSet.newShard(new ShardRanges(java.util.List.of()), 0, 4096);
        MemShard first = MemtableSet.newShard(new ShardRanges(java.util.List.of()), 0, 4096);
        MemShard second = MemtableSet.newShard(new ShardRanges(java.util.List.of()), 0, 4096);
        MemShard unrelated = MemtableSet.newShard(new ShardRanges(java.util.List.of()), 0, 4096);
        input.replacement = first;
        first.replacement = second;
        assertTrue(VersionInstaller.standsFor(input, input));
        assertTrue(VersionInstaller.standsFor(first, input));
        assertTrue(VersionInstaller.standsFor(second, input), "two rebuilds deep");
        assertFalse(VersionInstaller.standsFor(unrelated, input));
        assertFalse(VersionInstaller.standsFor(input, second), "a rebuilt copy never stands for what it replaced");
    }
}
