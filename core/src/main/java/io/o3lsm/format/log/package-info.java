/**
 * The record log: the one file format under both the write-ahead log and the MANIFEST.
 *
 * <p>A log is a file header (magic, format version, kind, file number) followed by 32 KiB blocks
 * of checksummed physical records; a logical record larger than the rest of its block is split
 * into FIRST/MIDDLE/LAST fragments (LevelDB's log format plus a Lucene-style file header).
 * {@link io.o3lsm.format.log.LogFormat} holds the layout shared by
 * {@link io.o3lsm.format.log.LogWriter} and {@link io.o3lsm.format.log.LogReader};
 * {@code docs/format/log.md} is the byte-for-byte specification, including when a damaged tail is
 * a torn write to drop and when it is corruption to report.
 *
 * <p>The log does not interpret payloads: WAL records are WriteBatch bytes
 * ({@code docs/format/write-batch.md}), MANIFEST records are VersionEdits
 * ({@code docs/format/manifest.md}).
 */
package io.o3lsm.format.log;
