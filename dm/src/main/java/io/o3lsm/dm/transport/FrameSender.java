package io.o3lsm.dm.transport;

import io.o3lsm.dm.protocol.MessageHeaderDescriptor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.openucx.jucx.UcxCallback;
import org.openucx.jucx.UcxException;
import org.openucx.jucx.UcxUtils;
import org.openucx.jucx.ucp.UcpEndpoint;
import org.openucx.jucx.ucp.UcpRequest;

/**
 * Sends one framed control message (header + body) as a UCX active message. Progress thread only.
 * Each send copies header and body into a direct buffer that stays alive until UCX reports the send
 * complete (a rendezvous send reads it later); buffers up to {@link #POOLED_SIZE} are pooled.
 */
public final class FrameSender {
    static final int POOLED_SIZE = 8192;
    private static final int MAX_POOLED = 256;

    private final ArrayDeque<ByteBuffer> pool = new ArrayDeque<>();
    private final UnsafeBuffer view = new UnsafeBuffer(new byte[0]);

    /** Outcome of a send, on the progress thread (possibly inside {@link #send}). */
    public interface Completion {
        void onDone(int ucsStatus, String error);
    }

    /**
     * @param flags e.g. {@code UcpConstants.UCP_AM_SEND_FLAG_REPLY} so the receiver gets a reply endpoint
     * @param done  may be null; called with status 0 on success
     * @throws UcxException if UCX refuses the send at once (endpoint failed or closed)
     */
    public void send(UcpEndpoint ep, int amId, int opcode, int status, long requestId, DirectBuffer body, int bodyOffset,
            int bodyLength, long flags, Completion done) {
        send(ep, amId, MessageHeaderDescriptor.PROTOCOL_VERSION, opcode, status, requestId, body, bodyOffset, bodyLength,
                flags, done);
    }

    /** As {@link #send(UcpEndpoint, int, int, int, long, DirectBuffer, int, int, long, Completion)} with the header's version given (tests of outdated peers). */
    public void send(UcpEndpoint ep, int amId, int version, int opcode, int status, long requestId, DirectBuffer body,
            int bodyOffset, int bodyLength, long flags, Completion done) {
        int total = MessageHeaderDescriptor.LENGTH + bodyLength;
        ByteBuffer bb = take(total);
        view.wrap(bb, 0, total);
        MessageHeaderDescriptor.write(view, 0, opcode, status, bodyLength, requestId);
        view.putByte(MessageHeaderDescriptor.VERSION_OFFSET, (byte) version);
        if (bodyLength > 0) {
            view.putBytes(MessageHeaderDescriptor.LENGTH, body, bodyOffset, bodyLength);
        }
        view.wrap(new byte[0]);
        long addr = UcxUtils.getAddress(bb);
        UcxCallback cb = new UcxCallback() {
            @Override
            public void onSuccess(UcpRequest request) {
                give(bb);
                if (done != null) {
                    done.onDone(0, null);
                }
            }

            @Override
            public void onError(int ucsStatus, String errorMsg) {
                give(bb);
                if (done != null) {
                    done.onDone(ucsStatus, errorMsg);
                }
            }
        };
        try {
            ep.sendAmNonBlocking(amId, addr, MessageHeaderDescriptor.LENGTH, addr + MessageHeaderDescriptor.LENGTH,
                    bodyLength, flags, cb);
        } catch (UcxException e) {
            give(bb);
            throw e;
        }
    }

    /**
     * As {@link #send}, but the body is sent straight from {@code dataAddress} (not copied): the
     * caller keeps those {@code dataLength} bytes alive and unchanged until {@code done} is called
     * (always called, unless this throws).
     */
    public void sendFrom(UcpEndpoint ep, int amId, int opcode, int status, long requestId, long dataAddress,
            int dataLength, long flags, Completion done) {
        ByteBuffer bb = take(MessageHeaderDescriptor.LENGTH);
        view.wrap(bb, 0, MessageHeaderDescriptor.LENGTH);
        MessageHeaderDescriptor.write(view, 0, opcode, status, dataLength, requestId);
        view.wrap(new byte[0]);
        boolean[] given = new boolean[1]; // progress thread only: the header buffer goes back to the pool once
        Runnable giveBack = () -> {
            if (!given[0]) {
                given[0] = true;
                give(bb);
            }
        };
        UcxCallback cb = new UcxCallback() {
            @Override
            public void onSuccess(UcpRequest request) {
                giveBack.run();
                done.onDone(0, null);
            }

            @Override
            public void onError(int ucsStatus, String errorMsg) {
                giveBack.run();
                done.onDone(ucsStatus, errorMsg);
            }
        };
        try {
            ep.sendAmNonBlocking(amId, UcxUtils.getAddress(bb), MessageHeaderDescriptor.LENGTH, dataAddress, dataLength,
                    flags, cb);
        } catch (UcxException e) {
            giveBack.run();
            throw e;
        }
    }

    private ByteBuffer take(int size) {
        if (size <= POOLED_SIZE) {
            ByteBuffer b = pool.poll();
            return b != null ? b : ByteBuffer.allocateDirect(POOLED_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        }
        return ByteBuffer.allocateDirect(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void give(ByteBuffer b) {
        if (b.capacity() == POOLED_SIZE && pool.size() < MAX_POOLED) {
            pool.add(b);
        }
    }
}
