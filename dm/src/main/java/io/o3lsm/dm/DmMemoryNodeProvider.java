package io.o3lsm.dm;

import io.o3lsm.dm.client.DmClient;
import io.o3lsm.spi.MemoryNode;
import java.io.IOException;

/**
 * The UCX implementation of {@link MemoryNode.Provider}, found by {@link java.util.ServiceLoader}
 * ({@code META-INF/services/io.o3lsm.spi.MemoryNode$Provider}).
 */
public final class DmMemoryNodeProvider implements MemoryNode.Provider {
    @Override
    public MemoryNode.Client connect(MemoryNode.Config config) throws IOException {
        return DmClient.connect(config);
    }
}
