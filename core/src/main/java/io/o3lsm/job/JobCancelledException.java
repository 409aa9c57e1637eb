package io.o3lsm.job;

import java.io.IOException;

/**
 * A flush or compaction job gave up because its owner asked it to (the DB is closing). Not a
 * failure of the data: the job's inputs are still live and its outputs were deleted.
 */
public final class JobCancelledException extends IOException {
    private static final long serialVersionUID = 1L;

    public JobCancelledException(String message) {
        super(message);
    }
}
