package io.o3lsm.internal.util;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** What the build recorded about itself: {@code io/o3lsm/version.properties}, filtered by Maven. */
public final class BuildInfo {
    /** The project version, or {@code "unknown"}. */
    public static final String VERSION = load();

    private BuildInfo() {
    }

    private static String load() {
        try (InputStream in = BuildInfo.class.getResourceAsStream("/io/o3lsm/version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "").trim();
            return v.isEmpty() || v.startsWith("${") ? "unknown" : v;
        } catch (IOException e) {
            return "unknown";
        }
    }
}
