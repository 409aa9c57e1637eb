package io.o3lsm.dm.node;

import io.o3lsm.dm.protocol.Messages;
import org.openucx.jucx.ucp.UcpEndpoint;

/** One connected peer of the memory node: a DB or a worker. Progress thread only, except the immutable fields. */
final class Session {
    final long id;
    final UcpEndpoint ep;
    final String peer;
    volatile boolean closed;
    int state; // 0 new, 1 challenged, 2 authenticated, 3 refused
    Messages.Hello hello;
    byte[] serverNonce;
    /** The DB's account (role DB); null for a worker. */
    DbAccount account;
    long epoch;

    Session(long id, UcpEndpoint ep, String peer) {
        this.id = id;
        this.ep = ep;
        this.peer = peer;
    }

    boolean isWorker() {
        return hello != null && hello.role() == Messages.ROLE_WORKER;
    }

    String who() {
        String what = hello == null ? "" : hello.role() == Messages.ROLE_WORKER ? ", worker " + hello.dbId()
                : ", db " + hello.dbId() + " epoch " + hello.epoch();
        return "session " + id + " (" + peer + what + ")";
    }
}
