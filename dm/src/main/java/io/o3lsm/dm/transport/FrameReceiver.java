package io.o3lsm.dm.transport;

import io.o3lsm.dm.protocol.MessageHeaderDescriptor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.openucx.jucx.UcxCallback;
import org.openucx.jucx.UcxUtils;
import org.openucx.jucx.ucp.UcpAmData;
import org.openucx.jucx.ucp.UcpAmRecvCallback;
import org.openucx.jucx.ucp.UcpEndpoint;
import org.openucx.jucx.ucp.UcpRequest;
import org.openucx.jucx.ucs.UcsConstants;

/**
 * Active-message receive callback that parses the frame header and hands the body to a
 * {@link FrameHandler}, on the progress thread. Eager data is passed in place (valid only during
 * the handler call); rendezvous data is first fetched into a fresh direct buffer. A frame with a
 * bad header (size, version, body length) is passed to {@link FrameHandler#onMalformed}.
 */
public final class FrameReceiver implements UcpAmRecvCallback {
    private final FrameHandler handler;
    /** The header version this receiver accepts (the DM protocol's, or replication's). */
    private final int version;
    private final UnsafeBuffer header = new UnsafeBuffer(new byte[0]);
    private final UnsafeBuffer body = new UnsafeBuffer(new byte[0]);

    /** What to do with a received frame. Progress thread only. */
    public interface FrameHandler {
        /** The body is valid only during this call. {@code replyEp} may be null. */
        void onFrame(UcpEndpoint replyEp, int opcode, int status, long requestId, DirectBuffer body, int length);

        /** {@code status} is {@link io.o3lsm.dm.protocol.Status#UNSUPPORTED_VERSION} or {@link io.o3lsm.dm.protocol.Status#BAD_REQUEST}. */
        void onMalformed(UcpEndpoint replyEp, long requestId, int opcode, int status, String problem);
    }

    /** A receiver of DM protocol frames ({@link MessageHeaderDescriptor#PROTOCOL_VERSION}). */
    public FrameReceiver(FrameHandler handler) {
        this(handler, MessageHeaderDescriptor.PROTOCOL_VERSION);
    }

    /** A receiver of frames of another protocol sharing the header layout (replication), with its own version. */
    public FrameReceiver(FrameHandler handler, int version) {
        this(handler, version, (ep, opcode, length) -> true);
    }

    /**
     * How long a body a peer may send now, asked before anything is allocated for it (a peer not yet
     * authenticated must not make this process allocate up to {@code MAX_BODY_LENGTH}). Progress thread.
     */
    public interface BodyLimit {
        boolean allows(UcpEndpoint replyEp, int opcode, int bodyLength);
    }

    private final BodyLimit limit;

    /** As {@link #FrameReceiver(FrameHandler, int)}, refusing (as malformed, unread) bodies {@code limit} does not allow. */
    public FrameReceiver(FrameHandler handler, int version, BodyLimit limit) {
        this.handler = handler;
        this.version = version;
        this.limit = limit;
    }

    @Override
    public int onReceive(long headerAddress, long headerSize, UcpAmData data, UcpEndpoint replyEp) {
        if (headerSize != MessageHeaderDescriptor.LENGTH) {
            handler.onMalformed(replyEp, 0, 0, io.o3lsm.dm.protocol.Status.BAD_REQUEST, "expected a " + MessageHeaderDescriptor.LENGTH
                    + "-byte header, found " + headerSize);
            return UcsConstants.STATUS.UCS_OK;
        }
        header.wrap(headerAddress, MessageHeaderDescriptor.LENGTH);
        int found = MessageHeaderDescriptor.version(header, 0);
        int opcode = MessageHeaderDescriptor.opcode(header, 0);
        int status = MessageHeaderDescriptor.status(header, 0);
        int bodyLength = MessageHeaderDescriptor.bodyLength(header, 0);
        long requestId = MessageHeaderDescriptor.requestId(header, 0);
        header.wrap(new byte[0]);
        long dataLength = data.getLength();
        if (found != version) {
            handler.onMalformed(replyEp, requestId, opcode, io.o3lsm.dm.protocol.Status.UNSUPPORTED_VERSION,
                    "expected protocol version " + version + ", found " + found);
            return UcsConstants.STATUS.UCS_OK;
        }
        if (bodyLength != dataLength || bodyLength < 0 || bodyLength > MessageHeaderDescriptor.MAX_BODY_LENGTH) {
            handler.onMalformed(replyEp, requestId, opcode, io.o3lsm.dm.protocol.Status.BAD_REQUEST, "expected body-length = data length <= "
                    + MessageHeaderDescriptor.MAX_BODY_LENGTH + ", found " + bodyLength + " and " + dataLength);
            return UcsConstants.STATUS.UCS_OK;
        }
        if (bodyLength > 0 && !limit.allows(replyEp, opcode, bodyLength)) {
            handler.onMalformed(replyEp, requestId, opcode, io.o3lsm.dm.protocol.Status.BAD_REQUEST, "a body of "
                    + bodyLength + " bytes is not accepted from this peer now (before authentication, or over the "
                    + "message's limit)");
            return UcsConstants.STATUS.UCS_OK;
        }
        if (bodyLength == 0 || data.isDataValid()) {
            if (bodyLength > 0) {
                body.wrap(data.getDataAddress(), bodyLength);
            }
            try {
                handler.onFrame(replyEp, opcode, status, requestId, body, bodyLength);
            } finally {
                body.wrap(new byte[0]);
            }
            return UcsConstants.STATUS.UCS_OK;
        }
        // Rendezvous: fetch the body, then handle it.
        ByteBuffer dst = ByteBuffer.allocateDirect(bodyLength).order(ByteOrder.LITTLE_ENDIAN);
        data.receive(UcxUtils.getAddress(dst), new UcxCallback() {
            @Override
            public void onSuccess(UcpRequest request) {
                handler.onFrame(replyEp, opcode, status, requestId, new UnsafeBuffer(dst), bodyLength);
            }

            @Override
            public void onError(int ucsStatus, String errorMsg) {
                handler.onMalformed(replyEp, requestId, opcode, io.o3lsm.dm.protocol.Status.BAD_REQUEST, "receiving a " + bodyLength
                        + "-byte body failed: " + errorMsg);
            }
        });
        return UcsConstants.STATUS.UCS_OK;
    }
}
