package dev.tandem.runtime.cluster;

import java.time.Duration;
import java.util.List;

/**
 * Cluster timing as named multiples of one heartbeat interval (DESIGN.md defaults: 1 s; inactive
 * after 2 missed, dead after 5), stated in one place.
 */
public record ClusterSettings(
        Duration heartbeatInterval,
        int inactiveAfterMissed,
        int deadAfterMissed,
        Duration misfireThreshold,
        Duration schedulerTick,
        List<String> tags,
        TakeoverPolicy takeoverPolicy,
        List<String> takeoverMembers) {

    public enum TakeoverPolicy { ANY, STATIC, REMOTE_EXECUTION }

    public Duration inactiveAfter() {
        return heartbeatInterval.multipliedBy(inactiveAfterMissed);
    }

    public Duration deadAfter() {
        return heartbeatInterval.multipliedBy(deadAfterMissed);
    }

    @Override
    public String toString() {
        return "heartbeat every " + heartbeatInterval.toMillis() + " ms, inactive after " + inactiveAfter().toMillis()
                + " ms, dead after " + deadAfter().toMillis() + " ms, misfire after " + misfireThreshold.toSeconds()
                + " s, takeover policy " + takeoverPolicy.name().toLowerCase().replace('_', '-')
                + (takeoverPolicy == TakeoverPolicy.STATIC ? " " + takeoverMembers : "") + ", tags " + tags;
    }
}
