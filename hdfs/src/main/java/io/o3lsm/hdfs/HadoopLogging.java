package io.o3lsm.hdfs;

/**
 * Hadoop logs thousands of INFO lines per run; o3lsm turns its loggers down to WARN unless the
 * system property {@code o3lsm.hadoop.log} names another level (or {@code keep} to leave the
 * configuration alone). Works with the log4j 1.x API (reload4j) when present; otherwise Hadoop logs
 * through SLF4J, whose binding the application chooses.
 */
final class HadoopLogging {
    private static volatile boolean done;

    private HadoopLogging() {
    }

    static void quiet() {
        if (done) {
            return;
        }
        done = true;
        String level = System.getProperty("o3lsm.hadoop.log", "WARN");
        if (level.equalsIgnoreCase("keep")) {
            return;
        }
        try {
            Class<?> logger = Class.forName("org.apache.log4j.Logger");
            Class<?> lvl = Class.forName("org.apache.log4j.Level");
            Object l = lvl.getMethod("toLevel", String.class).invoke(null, level);
            for (String name : new String[] {"org.apache.hadoop", "org.eclipse.jetty", "BlockStateChange",
                    "SecurityLogger", "org.apache.hadoop.hdfs.StateChange"}) {
                Object lg = logger.getMethod("getLogger", String.class).invoke(null, name);
                logger.getMethod("setLevel", lvl).invoke(lg, l);
            }
        } catch (ReflectiveOperationException | LinkageError ignored) {
            // no log4j 1.x API on the class path: nothing to turn down here
        }
    }
}
