package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.o3lsm.DB;
import io.o3lsm.Options;
import io.o3lsm.internal.db.DBImpl;
import io.o3lsm.internal.format.Lookup;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DBImpl.get/multiGet/iterator without a snapshot read {@code lastSequence} first and pin the
 * SuperVersion afterwards (DBImpl:1187-1188, 1208-1209, 1325-1326). The sequence is not registered,
 * so a flush + compaction that completes in between uses keep = [newer lastSequence] and drops the
 * version the reader's sequence needs. This test replays that interleaving step by step (the reader is
 * "preempted" between the two lines) through the same private methods get() calls.
 */
class Review2ReadSequenceRaceTest {
    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldFindTheVersionLiveAtTheReadSequenceAfterCompaction() throws Exception {
        try (DB db = DB.open(dir, Options.defaults().shardCount(1))) {
            DBImpl impl = (DBImpl) db;
            db.put(b("k"), b("v1"));
            db.compactRange(null, null); // k@1 on disk

            // reader: pins its view and reads the sequence (DBImpl.pin), then is preempted
            Method pin = DBImpl.class.getDeclaredMethod("pin", io.o3lsm.ReadOptions.class, long[].class);
            pin.setAccessible(true);
            long[] seqOut = new long[1];
            Object sv = pin.invoke(impl, io.o3lsm.ReadOptions.defaults(), seqOut);
            long seq = seqOut[0];

            // meanwhile: overwrite, flush, compaction; the pinned version keeps k@1's file alive
            db.put(b("k"), b("v2"));
            db.compactRange(null, null);

            // reader resumes: lookup(cur, key, seq, ...)
            Method lookup = null;
            for (Method m : DBImpl.class.getDeclaredMethods()) {
                if (m.getName().equals("lookup")) {
                    lookup = m;
                }
            }
            lookup.setAccessible(true);
            Lookup out = (Lookup) lookup.invoke(impl, sv, b("k"), seq, true, true, new Lookup());
            Method unref = sv.getClass().getDeclaredMethod("unref");
            unref.setAccessible(true);
            unref.invoke(sv);
            // At sequence `seq` the key held v1 (it was never deleted): the read must see it.
            assertEquals(Lookup.FOUND, out.state, "key k live at seq " + seq + " not found");
            assertArrayEquals(b("v1"), out.value);
        }
    }
}
