package io.o3lsm.hdfs;

import io.o3lsm.spi.FileSystem;
import java.io.IOException;
import java.net.URI;

/** Opens {@code hdfs:} URIs for {@link FileSystem#forUri} (registered with {@link java.util.ServiceLoader}). */
public final class HdfsFileSystemProvider implements FileSystem.Provider {
    @Override
    public String scheme() {
        return "hdfs";
    }

    @Override
    public FileSystem open(URI uri) throws IOException {
        return HdfsFileSystem.open(uri);
    }
}
