package io.o3lsm;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte sizes as users write them on command lines and in properties files: {@code 65536}, {@code
 * 64k}, {@code 64MiB}, {@code 1g} (for example to fill {@link Options#writeBufferSize} from a
 * configuration). Used by o3lsm's own tools.
 */
public final class Sizes {
    private static final Pattern SIZE = Pattern.compile("(?i)\\s*(\\d+)\\s*([kmgt]?)(i?b)?\\s*");

    private Sizes() {
    }

    /**
     * The bytes {@code text} names: digits, then an optional binary unit {@code k}, {@code m},
     * {@code g} or {@code t} (case-insensitive), then an optional {@code b} or {@code ib}.
     *
     * @throws IllegalArgumentException not a size, or more than a long holds; the message quotes the text
     */
    public static long parse(String text) {
        Matcher m = SIZE.matcher(text == null ? "" : text);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a size: '" + text + "' (use e.g. 65536, 64k, 64m, 1g)");
        }
        int shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            default -> 0;
        };
        long v;
        try {
            v = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) { // more digits than a long holds
            throw new IllegalArgumentException("size too large: '" + text + "'");
        }
        if (v > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("size too large: '" + text + "'");
        }
        return v << shift;
    }
}
