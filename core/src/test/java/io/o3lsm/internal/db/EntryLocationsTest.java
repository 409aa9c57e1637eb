package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.format.InternalKey;
import io.o3lsm.format.Lookup;
import io.o3lsm.format.memtable.FetchedNode;
import io.o3lsm.format.memtable.MemtableShard;
import io.o3lsm.format.memtable.ShardReader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * The table of entry locations of one shard, and the decoding of one node read out of it by itself:
 * every key's newest point entry is found at the offset and length the table holds, an absent key
 * is (almost always) answered without a read, and a node's bytes are checked before they are used.
 */
class EntryLocationsTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void add(MemtableShard s, String key, long seq, int type, String value) {
        byte[] k = b(key);
        byte[] v = b(value);
        assertTrue(s.add(seq, type, k, 0, k.length, v, 0, v.length));
    }

    /** Reads a node as a one-sided read would: only its own bytes. */
    private static int fetch(ShardReader rd, long slot, byte[] key, long snapshot, Lookup out) {
        int len = EntryLocations.length(slot);
        byte[] copy = new byte[len];
        rd.buffer().getBytes(EntryLocations.offset(slot), copy, 0, len);
        return FetchedNode.decode(new UnsafeBuffer(copy), len, key, snapshot, out);
    }

    @Test
    void shouldLocateTheNewestPointEntryOfEveryKeyAndAnswerAbsentKeysWithoutARead() {
        MemtableShard s = MemtableShard.allocate(1, 4 << 20);
        Random rnd = new Random(42);
        Map<String, String> newest = new HashMap<>();
        long seq = 1;
        for (int i = 0; i < 20_000; i++) {
            String key = "user:" + rnd.nextInt(8000);
            int r = rnd.nextInt(10);
            if (r < 7) {
                String v = "v" + seq + "x".repeat(rnd.nextInt(30));
                add(s, key, seq++, InternalKey.TYPE_VALUE, v);
                newest.put(key, v);
            } else if (r < 9) {
                add(s, key, seq++, InternalKey.TYPE_DELETION, "");
                newest.put(key, null);
            } else {
                // a range deletion newer than the key's point entries: the table skips it
                add(s, key, seq++, InternalKey.TYPE_RANGE_DELETION, key + "\0");
            }
        }
        s.seal();
        ShardReader rd = s.reader();
        EntryLocations t = EntryLocations.build(rd);
        assertEquals(newest.size(), t.keys(), "one slot per user key with a point entry");
        Lookup out = new Lookup();
        for (Map.Entry<String, String> e : newest.entrySet()) {
            byte[] key = b(e.getKey());
            long h = EntryLocations.hash(key);
            int result = FetchedNode.OTHER_KEY;
            for (int k = 0; result == FetchedNode.OTHER_KEY; k++) {
                long slot = t.find(h, k);
                assertTrue(slot != 0, e.getKey() + " is in the table");
                result = fetch(rd, slot, key, Long.MAX_VALUE, out.reset());
            }
            assertEquals(FetchedNode.MATCH, result, e.getKey());
            if (e.getValue() == null) {
                assertEquals(Lookup.DELETED, out.state, e.getKey());
            } else {
                assertEquals(Lookup.FOUND, out.state, e.getKey());
                assertArrayEquals(b(e.getValue()), out.value, e.getKey());
            }
        }
        int falseMatches = 0;
        for (int i = 0; i < 100_000; i++) {
            if (t.find(EntryLocations.hash(b("absent:" + i)), 0) != 0) {
                falseMatches++;
            }
        }
        // 16-bit fingerprints, a few slots per probe path: about 1e-4 per lookup
        assertTrue(falseMatches < 100, falseMatches + " of 100000 absent keys matched a fingerprint");
        assertTrue(t.bytes() <= 64 + 8 + 8L * (newest.size() + newest.size() / 3 + 1), t.bytes() + " bytes for " + newest.size() + " keys");
    }

    @Test
    void shouldHashAKeyTheSameFromAnArrayAndFromABuffer() {
        Random rnd = new Random(1);
        for (int len = 0; len < 40; len++) {
            byte[] k = new byte[len];
            rnd.nextBytes(k);
            byte[] padded = new byte[len + 7];
            System.arraycopy(k, 0, padded, 3, len);
            DirectBuffer buf = new UnsafeBuffer(padded);
            assertEquals(EntryLocations.hash(k), EntryLocations.hash(buf, 3, len), "length " + len);
        }
    }

    @Test
    void shouldSendAnEntryNewerThanTheSnapshotToDelegationAndRefuseMalformedNodes() {
        MemtableShard s = MemtableShard.allocate(1, 1 << 16);
        add(s, "k", 5, InternalKey.TYPE_VALUE, "old");
        add(s, "k", 9, InternalKey.TYPE_VALUE, "new");
        s.seal();
        ShardReader rd = s.reader();
        EntryLocations t = EntryLocations.build(rd);
        long slot = t.find(EntryLocations.hash(b("k")), 0);
        Lookup out = new Lookup();
        assertEquals(FetchedNode.MATCH, fetch(rd, slot, b("k"), 9, out));
        assertArrayEquals(b("new"), out.value);
        assertEquals(FetchedNode.TOO_NEW, fetch(rd, slot, b("k"), 8, out.reset()), "the older version needs the shard");
        assertEquals(FetchedNode.OTHER_KEY, fetch(rd, slot, b("j"), 9, out.reset()));

        int len = EntryLocations.length(slot);
        byte[] copy = new byte[len];
        rd.buffer().getBytes(EntryLocations.offset(slot), copy, 0, len);
        assertEquals(FetchedNode.MALFORMED, FetchedNode.decode(new UnsafeBuffer(copy), len - 4, b("k"), 9, out.reset()),
                "a length that is not the node's");
        byte[] bad = copy.clone();
        bad[0] = 13; // height past the format's 12
        assertEquals(FetchedNode.MALFORMED, FetchedNode.decode(new UnsafeBuffer(bad), len, b("k"), 9, out.reset()));
        bad = copy.clone();
        bad[4] = 3; // internal key shorter than its trailer
        assertEquals(FetchedNode.MALFORMED, FetchedNode.decode(new UnsafeBuffer(bad), len, b("k"), 9, out.reset()));
        assertEquals(FetchedNode.MALFORMED, FetchedNode.decode(new UnsafeBuffer(new byte[8]), 8, b("k"), 9, out.reset()));
        assertNull(out.value);
    }
}
