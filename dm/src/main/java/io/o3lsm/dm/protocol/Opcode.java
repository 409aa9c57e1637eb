package io.o3lsm.dm.protocol;

/** Request opcodes ({@link MessageHeaderDescriptor#OPCODE_OFFSET}); a response echoes its request's. */
public final class Opcode {
    public static final int HELLO = 1;
    public static final int AUTH = 2;
    public static final int ALLOC = 3;
    public static final int COMMIT = 4;
    public static final int GET = 5;
    public static final int SCAN = 6;
    public static final int READBACK = 7;
    public static final int FREE = 8;
    public static final int STATS = 9;
    /** Version 3: owner to coordinator, a job to place; answered when it ended. */
    public static final int JOB_SUBMIT = 10;
    /** Version 3: owner to coordinator, end a job attempt. */
    public static final int JOB_CANCEL = 11;
    /** Version 3: worker to coordinator, heartbeat and request for jobs. */
    public static final int WORKER_POLL = 12;
    /** Version 3: worker to coordinator, a job's result. */
    public static final int JOB_DONE = 13;
    /** Version 3: worker to coordinator, bytes of an input of a job it holds. */
    public static final int JOB_READ = 14;

    /** Version 5: DB to node, delegated gets of several keys at one snapshot in one request. */
    public static final int MULTI_GET = 15;

    private Opcode() {
    }

    public static String name(int op) {
        switch (op) {
            case HELLO: return "HELLO";
            case AUTH: return "AUTH";
            case ALLOC: return "ALLOC";
            case COMMIT: return "COMMIT";
            case GET: return "GET";
            case SCAN: return "SCAN";
            case READBACK: return "READBACK";
            case FREE: return "FREE";
            case STATS: return "STATS";
            case JOB_SUBMIT: return "JOB_SUBMIT";
            case JOB_CANCEL: return "JOB_CANCEL";
            case WORKER_POLL: return "WORKER_POLL";
            case JOB_DONE: return "JOB_DONE";
            case JOB_READ: return "JOB_READ";
            case MULTI_GET: return "MULTI_GET";
            default: return "OP_" + op;
        }
    }
}
