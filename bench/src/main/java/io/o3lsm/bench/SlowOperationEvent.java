package io.o3lsm.bench;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * A JFR event for each benchmark operation that took at least {@link #THRESHOLD_NANOS}, so that a
 * recording ({@code O3_JAVA_OPTS=-XX:StartFlightRecording=filename=rec.jfr,settings=profile}) can
 * line the slow operations up with GC pauses ({@code jdk.GCPhasePause}), writer stalls and lock
 * waits ({@code jdk.ThreadPark}, {@code jdk.JavaMonitorEnter}) by time:
 * {@code jfr print --events io.o3lsm.bench.SlowOperation rec.jfr}. The event is committed after
 * the operation, so its start time is the operation's end; the operation began {@code latency}
 * earlier. Created only for slow operations (rare), so it adds no allocation to the timed loop.
 */
@Name("io.o3lsm.bench.SlowOperation")
@Label("Slow benchmark operation")
@Category("o3lsm bench")
@Description("A timed benchmark operation slower than 1 ms; committed when it ended")
@StackTrace(false)
final class SlowOperationEvent extends jdk.jfr.Event {
    /** Operations at least this slow are recorded (1 ms: well above every engine's P99.9). */
    static final long THRESHOLD_NANOS = 1_000_000;

    @Label("Engine")
    String engine;

    @Label("Benchmark")
    String benchmark;

    @Label("Latency")
    @Timespan(Timespan.NANOSECONDS)
    long latency;

    /** Records a slow operation of {@code nanos} if JFR records this event. */
    static void record(String engine, String benchmark, long nanos) {
        SlowOperationEvent ev = new SlowOperationEvent();
        if (ev.isEnabled()) {
            ev.engine = engine;
            ev.benchmark = benchmark;
            ev.latency = nanos;
            ev.commit();
        }
    }
}
