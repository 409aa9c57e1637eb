package io.o3lsm.dm.node;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What one DB (by its stable id) holds on the node: its current epoch, its budget and its live
 * segments. Mutated on the progress thread only; {@link #used} is read by the stats logger.
 */
final class DbAccount {
    final String dbId;
    long epoch = -1;
    long budget;
    final AtomicLong used = new AtomicLong();
    final Map<Long, Segment> segments = new LinkedHashMap<>();

    DbAccount(String dbId) {
        this.dbId = dbId;
    }
}
