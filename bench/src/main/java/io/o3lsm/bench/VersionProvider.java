package io.o3lsm.bench;

import io.o3lsm.DB;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code -V}/{@code --version} of the bench's commands: {@code o3lsm <command> <version>} and the JVM. */
public final class VersionProvider implements IVersionProvider {
    @Spec
    CommandSpec spec;

    @Override
    public String[] getVersion() {
        String name = spec == null ? "" : spec.qualifiedName() + " ";
        return new String[] {"o3lsm " + name + DB.version(),
                "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"};
    }
}
