package io.o3lsm.dm.replication;

import io.o3lsm.spi.FileSystem;
import io.o3lsm.spi.Replication;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The backup's side of table shipping: each FILE_CHUNK's bytes are in the landing buffer; they are
 * checked against the chunk's CRC32C and appended to the file {@link Replication.Target#fileBegin}
 * opened. The transport only appends: the Target owns the file it opened, and syncs and closes it
 * in {@link Replication.Target#fileDone} (after the last chunk) or closes and removes it in
 * {@link Replication.Target#fileFailed} (a CRC mismatch, a chunk out of order, a new file begun
 * over it, the connection lost). The backup's apply thread only.
 */
final class TableReceiver {
    /** A chunk refused: the ACK's status and text. */
    record Refusal(int status, String message) {
    }

    private final Replication.Target target;
    private final String backup;
    private final UnsafeBuffer landing;
    private final ByteBuffer landingView;
    private final CRC32C crc = new CRC32C();
    private byte[] chunk = new byte[0];
    private FileSystem.WritableFile file;
    private long fileNumber = -1;
    private long fileOffset;

    TableReceiver(Replication.Target target, String backup, UnsafeBuffer landing, ByteBuffer landingView) {
        this.target = target;
        this.backup = backup;
        this.landing = landing;
        this.landingView = landingView;
    }

    /** One chunk: null when it was verified and appended, else why it was refused. Target failures throw. */
    Refusal chunk(ReplMessages.FileChunk c) throws IOException {
        if (c.offset() == 0) {
            abandon();
            file = target.fileBegin(c.number());
            fileNumber = c.number();
            fileOffset = 0;
        } else if (file == null || fileNumber != c.number() || fileOffset != c.offset()) {
            String why = "chunk at " + c.offset() + " of table " + c.number() + " out of order (expected table "
                    + fileNumber + " at " + fileOffset + ")";
            abandon();
            return new Refusal(ReplProtocol.BAD_REQUEST, why);
        }
        int n = c.length();
        int found = 0;
        if (n > 0) {
            crc.reset();
            landingView.limit(n).position(0);
            crc.update(landingView);
            found = (int) crc.getValue();
        }
        if (found != c.crc()) {
            long number = fileNumber;
            abandon();
            return new Refusal(ReplProtocol.CORRUPT, "chunk at " + c.offset() + " of table " + number + " (" + n
                    + " bytes): CRC32C expected 0x" + Integer.toHexString(c.crc()) + ", found 0x"
                    + Integer.toHexString(found));
        }
        if (chunk.length < n) {
            chunk = new byte[Math.max(n, 64 << 10)];
        }
        landing.getBytes(0, chunk, 0, n);
        file.append(chunk, 0, n);
        fileOffset += n;
        if (fileOffset == c.size()) {
            file = null;
            fileNumber = -1;
            target.fileDone(c.number(), c.size());
        }
        return null;
    }

    /** The file being received (if any) is given up: the Target is told (it closes and removes it). */
    void abandon() {
        if (file == null) {
            return;
        }
        long number = fileNumber;
        file = null;
        fileNumber = -1;
        try {
            target.fileFailed(number);
        } catch (RuntimeException e) {
            ReplicationPrimary.LOG.log(Level.WARNING, "o3lsm-repl: backup " + backup + ": fileFailed(" + number
                    + ") threw", e);
        }
    }
}
