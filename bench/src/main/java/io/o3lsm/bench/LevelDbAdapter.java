package io.o3lsm.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.iq80.leveldb.CompressionType;
import org.iq80.leveldb.DB;
import org.iq80.leveldb.DBIterator;
import org.iq80.leveldb.Options;
import org.iq80.leveldb.WriteOptions;
import org.iq80.leveldb.impl.Iq80DBFactory;

/**
 * LevelDB-Java ({@code org.iq80.leveldb:leveldb}, a pure-Java port of LevelDB), for comparison only.
 * What it can and cannot match, printed in {@link #describe()}:
 *
 * <ul>
 *   <li>write buffer → {@code writeBufferSize} (plus one immutable memtable, as in LevelDB);</li>
 *   <li>no bloom filters (0.12 has no filter policy) and no block cache (its {@code cacheSize}
 *   option is not used by 0.12): point reads of absent keys and cold blocks cost more;</li>
 *   <li>compression: none or snappy only (snappy only if a snappy library is on the class path);</li>
 *   <li>the WAL cannot be disabled; sync per write is supported;</li>
 *   <li>no I/O counters, so write amplification is "n/a".</li>
 * </ul>
 *
 * <p>LevelDB-Java keeps references to the byte arrays it is given (its write batch wraps them
 * without copying), while the runner reuses its arrays, so puts and deletes pass copies. Gets and
 * iterator entries allocate, as the API returns fresh arrays.
 */
public final class LevelDbAdapter implements EngineAdapter {
    private DB db;
    private WriteOptions writeOptions;
    private String describe;

    @Override
    public String name() {
        return "leveldb";
    }

    @Override
    public void open(Path dir, Settings s) {
        if (!"local".equals(s.mode())) {
            throw new IllegalArgumentException("leveldb runs only in --mode local, not " + s.mode());
        }
        String notes = " (no bloom filters, no block cache in LevelDB-Java 0.12";
        CompressionType ct;
        switch (s.compression().toLowerCase(Locale.ROOT)) {
            case "snappy" -> ct = CompressionType.SNAPPY;
            case "none" -> ct = CompressionType.NONE;
            default -> {
                ct = CompressionType.NONE;
                notes += "; no " + s.compression() + " compression: using none";
            }
        }
        if (s.disableWal()) {
            notes += "; the WAL cannot be disabled";
        }
        notes += ")";
        Options o = new Options()
                .createIfMissing(true)
                .writeBufferSize((int) Math.min(Integer.MAX_VALUE, s.localBudget()))
                .cacheSize(s.blockCacheSize())
                .compressionType(ct);
        writeOptions = new WriteOptions().sync(s.sync());
        try {
            db = Iq80DBFactory.factory.open(dir.toFile(), o);
        } catch (IOException e) {
            throw new UncheckedIOException("leveldb open " + dir, e);
        }
        describe = "LevelDB-Java " + Iq80DBFactory.VERSION + " writeBufferSize=" + o.writeBufferSize()
                + " compression=" + o.compressionType() + " blockSize=" + o.blockSize() + " cacheSize="
                + o.cacheSize() + " (unused) sync=" + s.sync() + " mmap=" + Iq80DBFactory.USE_MMAP + notes;
    }

    @Override
    public String describe() {
        return describe;
    }

    @Override
    public void put(byte[] key, byte[] value) {
        db.put(key.clone(), value.clone(), writeOptions);
    }

    /** LevelDB has no multiGet: one get per key. */
    @Override
    public java.util.List<byte[]> multiGet(java.util.List<byte[]> keys) {
        java.util.List<byte[]> out = new java.util.ArrayList<>(keys.size());
        for (byte[] k : keys) {
            out.add(db.get(k));
        }
        return out;
    }

    @Override
    public int get(byte[] key, byte[] valueOut) {
        byte[] v = db.get(key);
        if (v == null) {
            return -1;
        }
        System.arraycopy(v, 0, valueOut, 0, Math.min(v.length, valueOut.length));
        return v.length;
    }

    @Override
    public void delete(byte[] key) {
        db.delete(key.clone(), writeOptions);
    }

    @Override
    public Cursor newCursor() {
        DBIterator it = db.iterator();
        return new Cursor() {
            Map.Entry<byte[], byte[]> current;

            @Override
            public void seekToFirst() {
                it.seekToFirst();
                advance();
            }

            @Override
            public void seek(byte[] target) {
                it.seek(target);
                advance();
            }

            private void advance() {
                current = it.hasNext() ? it.next() : null;
            }

            @Override
            public boolean isValid() {
                return current != null;
            }

            @Override
            public void next() {
                if (current == null) {
                    throw new IllegalStateException("not valid");
                }
                advance();
            }

            @Override
            public int key(byte[] out) {
                byte[] k = current.getKey();
                System.arraycopy(k, 0, out, 0, Math.min(k.length, out.length));
                return k.length;
            }

            @Override
            public int value(byte[] out) {
                byte[] v = current.getValue();
                System.arraycopy(v, 0, out, 0, Math.min(v.length, out.length));
                return v.length;
            }

            @Override
            public void close() {
                try {
                    it.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };
    }

    @Override
    public void close() {
        if (db != null) {
            try {
                db.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                db = null;
            }
        }
    }
}
