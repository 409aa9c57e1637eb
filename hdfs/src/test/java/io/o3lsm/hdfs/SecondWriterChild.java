package io.o3lsm.hdfs;

import io.o3lsm.DB;
import io.o3lsm.O3Exception;
import io.o3lsm.Options;
import java.net.URI;

/**
 * A second process trying to open a DB on HDFS: {@code java … SecondWriterChild URI}. Prints one
 * line and exits {@value #OPENED} when the open succeeded (it closes the DB again),
 * {@value #REFUSED} when it was refused with an {@link O3Exception}, 1 on anything else.
 */
final class SecondWriterChild {
    static final int OPENED = 10;
    static final int REFUSED = 11;

    private SecondWriterChild() {
    }

    public static void main(String[] args) {
        URI uri = URI.create(args[0]);
        try (DB db = DB.open(uri, Options.defaults().createIfMissing(false))) {
            System.out.println("opened " + uri + ", key0=" + (db.get("key0".getBytes()) != null));
            System.out.flush();
        } catch (O3Exception ex) {
            StringBuilder why = new StringBuilder("refused: " + ex);
            for (Throwable c = ex.getCause(); c != null; c = c.getCause()) {
                why.append("\n  caused by: ").append(c);
            }
            System.out.println(why);
            System.out.flush();
            System.exit(REFUSED);
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            System.out.flush();
            System.exit(1);
        }
        System.exit(OPENED);
    }
}
