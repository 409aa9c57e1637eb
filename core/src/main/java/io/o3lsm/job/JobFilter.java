package io.o3lsm.job;

import io.o3lsm.CompactionFilter;

/**
 * The compaction filter of one job: the filter, the context it is called with, and the newest live
 * snapshot when the job was created (only entries above it are filtered). Immutable.
 */
record JobFilter(CompactionFilter filter, CompactionFilter.Context context, long newestSnapshot) {
}
