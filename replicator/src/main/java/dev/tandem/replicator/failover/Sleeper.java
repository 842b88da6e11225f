package dev.tandem.replicator.failover;

import java.time.Duration;

/**
 * How failover waits within one call (a switchover waiting for the target to apply everything, a
 * forced promotion waiting out the old holder's lease): the thread sleeps; tests move their
 * ticker instead, so a wait of seconds takes none.
 */
@FunctionalInterface
public interface Sleeper {
    Sleeper SYSTEM = duration -> Thread.sleep(Math.max(1, duration.toMillis()));

    void sleep(Duration duration) throws InterruptedException;
}
