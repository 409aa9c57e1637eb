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
            default: return "OP_" + op;
        }
    }
}
