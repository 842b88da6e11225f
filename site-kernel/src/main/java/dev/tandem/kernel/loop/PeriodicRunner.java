package dev.tandem.kernel.loop;

import com.codahale.metrics.Counter;
import com.codahale.metrics.MetricRegistry;
import io.dropwizard.lifecycle.Managed;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one control loop every interval on its own thread. A cycle returns the sentence that
 * explains what it decided (logged when it changes); an unexpected error is logged and counted,
 * and the loop keeps going: background threads never die silently.
 */
public final class PeriodicRunner implements Managed {
    private static final Logger LOG = LoggerFactory.getLogger(PeriodicRunner.class);

    private final String name;
    private final Duration interval;
    private final Supplier<String> cycle;
    private final Counter errors;
    private final ScheduledExecutorService executor;
    private final boolean fixedRate;
    private volatile String lastDecision = "";

    /** Each cycle starts an interval after the previous one ended. */
    public PeriodicRunner(String name, Duration interval, Supplier<String> cycle, MetricRegistry metrics) {
        this(name, interval, cycle, metrics, false);
    }

    /**
     * A loop whose cycles start every interval, counted from the previous start: a cycle that took
     * longer (a slow witness on a busy machine) is followed at once by the next, never overlapped,
     * and cycles missed during a stall are not made up. For deadlines that count from when the last
     * cycle began (a write lease).
     */
    public static PeriodicRunner atFixedRate(String name, Duration interval, Supplier<String> cycle, MetricRegistry metrics) {
        return new PeriodicRunner(name, interval, cycle, metrics, true);
    }

    private PeriodicRunner(String name, Duration interval, Supplier<String> cycle, MetricRegistry metrics, boolean fixedRate) {
        this.fixedRate = fixedRate;
        this.name = name;
        this.interval = interval;
        this.cycle = cycle;
        this.errors = metrics.counter("tandem.loop." + name + ".errors");
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tandem-" + name);
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void start() {
        if (fixedRate) {
            executor.execute(this::runAtRate);
        } else {
            executor.scheduleWithFixedDelay(this::runOnce, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void runAtRate() {
        long began = System.nanoTime();
        runOnce();
        try {
            executor.schedule(this::runAtRate, Math.max(0, began + interval.toNanos() - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            // stop() shut the loop down during this cycle
        }
    }

    private void runOnce() {
        try {
            String decision = cycle.get();
            if (decision != null && !decision.equals(lastDecision)) {
                LOG.info("{}: {}", name, decision);
                lastDecision = decision;
            }
        } catch (Throwable e) {
            errors.inc();
            LOG.error("{}: cycle failed, will retry in {} ms: {}", name, interval.toMillis(), e.toString());
        }
    }

    public String lastDecision() {
        return lastDecision;
    }

    @Override
    public void stop() throws InterruptedException {
        executor.shutdownNow();
        executor.awaitTermination(5, TimeUnit.SECONDS);
    }
}
