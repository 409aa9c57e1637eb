package io.o3lsm.internal.db;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.o3lsm.EventListener;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** close() stops the listener thread even when a listener swallows the interrupt that ends its wait. */
@Timeout(60)
class ListenerProxyCloseTest {
    @Test
    void closeMustStopTheThreadEvenIfTheListenerSwallowsTheInterrupt() throws Exception {
        CountDownLatch in = new CountDownLatch(1);
        EventListener slow = new EventListener() {
            @Override
            public void onBackgroundError(BackgroundErrorInfo info) {
                in.countDown();
                long end = System.nanoTime() + 6_000_000_000L;
                while (System.nanoTime() < end) {
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException ignored) {
                        // a careless listener: swallows the interrupt and finishes its work
                    }
                }
            }
        };
        ListenerProxy p = new ListenerProxy(List.of(slow), 16, "listener-close-test", new LongAdder());
        p.post(l -> l.onBackgroundError(null));
        in.await();
        p.close(); // waits 5 s, clears, interrupts
        // the listener returns ~1 s after close; the thread must then end (before the fix it never did)
        for (long end = System.nanoTime() + 30_000_000_000L; !p.liveThreads().isEmpty() && System.nanoTime() < end; ) {
            Thread.sleep(50);
        }
        assertTrue(p.liveThreads().isEmpty(), "listener thread still alive after close: " + p.liveThreads());
    }
}
