package io.o3lsm.hdfs;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** The query parameters of an {@code hdfs:} URI ({@code ?sync=hflush&dfs.replication=2}). */
final class HdfsUris {
    private HdfsUris() {
    }

    /**
     * Parameters in order of appearance, URL-decoded.
     *
     * @throws IllegalArgumentException a parameter has no value or appears twice
     */
    static Map<String, String> query(URI uri) {
        Map<String, String> out = new LinkedHashMap<>();
        String q = uri.getRawQuery();
        if (q == null || q.isEmpty()) {
            return out;
        }
        for (String part : q.split("&")) {
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("parameter '" + part + "' in " + uri + " needs a name and a value (name=value)");
            }
            String k = URLDecoder.decode(part.substring(0, eq), StandardCharsets.UTF_8);
            String v = URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
            if (out.put(k, v) != null) {
                throw new IllegalArgumentException("parameter '" + k + "' appears twice in " + uri);
            }
        }
        return out;
    }
}
