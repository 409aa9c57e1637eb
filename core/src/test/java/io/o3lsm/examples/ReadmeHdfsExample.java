package io.o3lsm.examples;

import io.o3lsm.DB;
import io.o3lsm.Options;
import java.net.URI;

/** The README's DB-on-HDFS line, compiled by ReadmeExampleTest (run against HDFS in o3lsm-hdfs's tests). */
final class ReadmeHdfsExample {
    private ReadmeHdfsExample() {
    }

    static DB open() {
        // README:hdfs-open begin
        DB db = DB.open(URI.create("hdfs://namenode:8020/o3/db1"), Options.defaults());
        // README:hdfs-open end
        return db;
    }
}
