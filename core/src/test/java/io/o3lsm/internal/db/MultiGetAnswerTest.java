package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.*;

import io.o3lsm.spi.MemoryNode;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What a multiGet's second pass takes from the MULTI_GET answer for one stretch of shards
 * ({@link ReadPath#answerFor}): the node named the first candidate holding the key.
 */
class MultiGetAnswerTest {
    private static MemoryNode.RemoteShard shard(long id) {
        return new MemoryNode.RemoteShard(id, 0, 100, 0, 1, 2);
    }

    private static final MemoryNode.RemoteShard A = shard(1);
    private static final MemoryNode.RemoteShard B = shard(2);
    private static final MemoryNode.RemoteShard C = shard(3);
    private static final MemoryNode.RemoteShard D = shard(4);
    private static final List<MemoryNode.RemoteShard> CANDIDATES = List.of(A, B, C, D);

    private static MemoryNode.GetResult foundAt(int index) {
        return new MemoryNode.GetResult(1, 7, new byte[] {9}, index);
    }

    private static final MemoryNode.GetResult NOWHERE = new MemoryNode.GetResult(0, 0, null, -1);

    @Test
    void theAnsweringCandidateInsideTheStretchAnswersIt() {
        MemoryNode.GetResult a = foundAt(2);
        assertSame(a, ReadPath.answerFor(CANDIDATES, a, List.of(B, C)));
        assertSame(a, ReadPath.answerFor(CANDIDATES, a, List.of(C)));
        assertSame(a, ReadPath.answerFor(CANDIDATES, a, List.of(A, C, D))); // B skipped by its bloom
    }

    @Test
    void aStretchBeforeTheAnsweringCandidateOrWithNoneHoldsNothing() {
        MemoryNode.GetResult none = ReadPath.answerFor(CANDIDATES, foundAt(3), List.of(A, B));
        assertEquals(0, none.state());
        assertEquals(-1, none.shardIndex());
        assertNull(none.value());
        assertEquals(0, ReadPath.answerFor(CANDIDATES, NOWHERE, List.of(B, C, D)).state());
    }

    @Test
    void aStretchPastOrAroundTheAnswerOrWithStrangersIsAskedFor() {
        assertNull(ReadPath.answerFor(CANDIDATES, foundAt(0), List.of(B, C)), "answer before the stretch");
        assertNull(ReadPath.answerFor(CANDIDATES, foundAt(1), List.of(A, C)), "answer between its shards");
        assertNull(ReadPath.answerFor(CANDIDATES, NOWHERE, List.of(A, shard(9))), "a shard that was no candidate");
        assertNull(ReadPath.answerFor(CANDIDATES, foundAt(3), List.of(C, B)), "out of order");
        // a handle equal by value (the same segment) counts as the candidate
        assertEquals(-1, ReadPath.answerFor(CANDIDATES, NOWHERE, List.of(shard(2))).shardIndex());
    }
}
