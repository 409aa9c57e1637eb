package io.o3lsm.dm.replication;

import io.o3lsm.spi.Replication;
import java.io.IOException;

/**
 * The UCX implementation of {@link Replication.Provider}, found by {@link java.util.ServiceLoader}
 * ({@code META-INF/services/io.o3lsm.spi.Replication$Provider}). Protocol:
 * {@code docs/format/replication-protocol.md}.
 */
public final class UcxReplicationProvider implements Replication.Provider {
    @Override
    public Replication.Primary listen(Replication.PrimaryConfig config, Replication.Source source) throws IOException {
        return new ReplicationPrimary(config, source);
    }

    @Override
    public Replication.Backup follow(Replication.BackupConfig config, Replication.Target target) throws IOException {
        return new ReplicationBackup(config, target);
    }
}
