package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.DB;
import io.o3lsm.Options;
import io.o3lsm.Replica;
import io.o3lsm.internal.version.Version;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every documented property ({@link DbProperties#KNOWN}) and every MBean attribute answers on read-only DBs and replicas. */
class PropertiesOnReadOnlyAndReplicaTest {
    @TempDir Path dir;
    @TempDir Path replicaDir;
    @TempDir Path secretDir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> names() {
        List<String> names = new ArrayList<>();
        for (String n : DbProperties.KNOWN.keySet()) {
            if (n.endsWith("<N>")) {
                for (int l = 0; l < Version.NUM_LEVELS; l++) {
                    names.add(n.replace("<N>", Integer.toString(l)));
                }
            } else {
                names.add(n);
            }
        }
        return names;
    }

    private static List<String> failures(DB db, String what) throws Exception {
        List<String> bad = new ArrayList<>();
        for (String n : names()) {
            try {
                db.property(n);
            } catch (RuntimeException ex) {
                bad.add(what + " property " + n + ": " + ex);
            }
        }
        DBImpl impl = db instanceof ReadOnlyFacade f ? f.impl() : db instanceof DBImpl d ? d : null;
        if (impl != null && impl.mbeanName() != null) {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            ObjectName on = new ObjectName(impl.mbeanName());
            for (MBeanAttributeInfo a : server.getMBeanInfo(on).getAttributes()) {
                try {
                    server.getAttribute(on, a.getName());
                } catch (Exception ex) {
                    bad.add(what + " MBean attribute " + a.getName() + ": " + ex);
                }
            }
        } else {
            bad.add(what + ": no MBean found to check (" + db.getClass() + ")");
        }
        return bad;
    }

    @Test
    void shouldAnswerEveryPropertyAndMBeanAttributeOnAReadOnlyDb() throws Exception {
        try (DB db = DB.open(dir, Options.defaults().jmx(false))) {
            for (int i = 0; i < 100; i++) {
                db.put(b("k" + i), b("v"));
            }
            db.flush();
            db.put(b("x"), b("y"));
        }
        try (DB ro = DB.openReadOnly(dir, Options.defaults())) {
            List<String> bad = failures(ro, "read-only");
            assertTrue(bad.isEmpty(), String.join("\n", bad));
        }
    }

    @Test
    void shouldAnswerEveryPropertyAndMBeanAttributeOnAReplica() throws Exception {
        Path secret = secretDir.resolve("secret");
        Files.writeString(secret, "test-secret\n");
        LoopbackReplication loop = new LoopbackReplication();
        String addr = "127.0.0.1:7391";
        Options o = Options.defaults().shardCount(1).shardArenaSize(64 * 1024).writeBufferSize(1024 * 1024)
                .targetFileSize(64 * 1024).replicationProvider(loop).replicationAckTimeout(Duration.ofSeconds(5));
        try (DB p = DB.open(dir, o.copy().replicationListen(addr, secret).jmx(false));
                Replica r = DB.openReplica(replicaDir, o.copy().replicaOf(addr, secret))) {
            for (int i = 0; i < 100; i++) {
                p.put(b("k" + i), b("v"));
            }
            p.flush();
            ReplicationTest.awaitInSync((DBImpl) p, r);
            List<String> bad = failures(r, "replica");
            assertTrue(bad.isEmpty(), String.join("\n", bad));
        }
    }
}
