package io.o3lsm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One rule for key length: every call that takes a key — writes, reads, seeks, iterator bounds,
 * range deletions, compaction ranges — refuses a key over {@link DB#MAX_KEY_SIZE} with an
 * {@link IllegalArgumentException} that names the key's length and the limit, and accepts a key of
 * exactly the limit.
 */
class KeySizeLimitTest {
    private static final byte[] OVER = new byte[DB.MAX_KEY_SIZE + 1];
    private static final byte[] AT = new byte[DB.MAX_KEY_SIZE];
    private static final byte[] V = {1};

    @TempDir
    Path dir;

    /** Each call that takes a key, given that key. */
    private static Map<String, Consumer<byte[]>> callsTakingAKey(DB db) {
        Map<String, Consumer<byte[]>> m = new LinkedHashMap<>();
        m.put("put", k -> db.put(k, V));
        m.put("put(ByteBuffer)", k -> db.put(ByteBuffer.wrap(k), ByteBuffer.wrap(V)));
        m.put("delete", k -> db.delete(k));
        m.put("deleteRange from", k -> db.deleteRange(k, new byte[] {(byte) 0xff}));
        m.put("deleteRange to", k -> db.deleteRange(new byte[] {0}, k));
        m.put("WriteBatch.put", k -> new WriteBatch().put(k, V));
        m.put("WriteBatch.delete(ByteBuffer)", k -> new WriteBatch().delete(ByteBuffer.wrap(k)));
        m.put("get", k -> db.get(k));
        m.put("get(ReadOptions)", k -> db.get(ReadOptions.defaults(), k));
        m.put("get(ByteBuffer)", k -> db.get(ByteBuffer.wrap(k), ByteBuffer.allocate(8)));
        m.put("multiGet", k -> db.multiGet(ReadOptions.defaults(), List.of(new byte[] {1}, k)));
        m.put("seek", k -> {
            try (DBIterator it = db.iterator()) {
                it.seek(k);
            }
        });
        m.put("seekForPrev", k -> {
            try (DBIterator it = db.iterator()) {
                it.seekForPrev(k);
            }
        });
        m.put("ReadOptions.lowerBound", k -> ReadOptions.defaults().lowerBound(k));
        m.put("ReadOptions.upperBound", k -> ReadOptions.defaults().upperBound(k));
        m.put("compactRange from", k -> db.compactRange(k, null));
        m.put("compactRange to", k -> db.compactRange(null, k));
        return m;
    }

    @Test
    void shouldRejectAKeyOverTheLimitInEveryCallThatTakesAKey() {
        try (DB db = DB.open(dir, Options.defaults())) {
            List<String> accepted = new ArrayList<>();
            for (Map.Entry<String, Consumer<byte[]>> c : callsTakingAKey(db).entrySet()) {
                try {
                    c.getValue().accept(OVER);
                    accepted.add(c.getKey());
                } catch (IllegalArgumentException e) {
                    String msg = e.getMessage();
                    assertTrue(msg.contains(String.valueOf(OVER.length)) && msg.contains(String.valueOf(DB.MAX_KEY_SIZE)),
                            c.getKey() + ": the message must name the key's length and the limit: " + msg);
                }
            }
            assertEquals(List.of(), accepted, "calls that accepted a key of " + OVER.length + " bytes");
        }
    }

    @Test
    void shouldAcceptAKeyExactlyAtTheLimitInEveryCallThatTakesAKey() {
        try (DB db = DB.open(dir, Options.defaults())) {
            for (Map.Entry<String, Consumer<byte[]>> c : callsTakingAKey(db).entrySet()) {
                try {
                    c.getValue().accept(AT);
                } catch (RuntimeException e) {
                    fail(c.getKey() + " refused a key of exactly " + AT.length + " bytes: " + e);
                }
            }
            db.put(AT, V);
            assertArrayEquals(V, db.get(AT));
            try (DBIterator it = db.iterator(ReadOptions.defaults().lowerBound(AT))) {
                it.seek(AT);
                assertArrayEquals(AT, it.key());
            }
            db.delete(AT);
            assertNull(db.get(AT));
        }
    }
}
