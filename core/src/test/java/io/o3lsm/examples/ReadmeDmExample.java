package io.o3lsm.examples;

import io.o3lsm.Options;
import java.nio.file.Path;

/** The README's DM-mode options, compiled and validated by ReadmeExampleTest. */
final class ReadmeDmExample {
    private ReadmeDmExample() {
    }

    static Options options() {
        // README:dm-options begin
        Options o = Options.defaults().memoryNode("memnode-1:7420", Path.of("/etc/o3lsm/secret"))
                .localMemoryBudget(16 << 20).dmBudget(1L << 30);
        // README:dm-options end
        return o;
    }
}
