package dev.tandem.runtime.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.runtime.job.JobDocuments;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CronSchedulesTest {

    @Test
    void rundecksTimeFormFiresInTheJobsTimeZone() {
        String cron = JobDocuments.quartzExpression(Map.of("time", Map.of("hour", "02", "minute", "30", "seconds", "0"),
                "month", "*", "weekday", Map.of("day", "MON-FRI"), "year", "*"));
        assertThat(cron).isEqualTo("0 30 02 ? * MON-FRI *");
        Instant next = CronSchedules.nextAfter(cron, "Europe/Paris", Instant.parse("2026-11-27T12:00:00Z")).orElseThrow();
        assertThat(next).as("the next weekday 02:30 in Paris (UTC+1 in winter) after Friday noon is Monday")
                .isEqualTo(Instant.parse("2026-11-30T01:30:00Z"));
    }

    @Test
    void fireTimesAreWholeSecondsWhateverTheStartingInstant() {
        assertThat(CronSchedules.nextAfter("* * * * * ?", "UTC", Instant.parse("2026-01-01T00:00:00.731Z")))
                .contains(Instant.parse("2026-01-01T00:00:01Z"));
        assertThat(CronSchedules.nextAfter("0 * * * * ?", "UTC", Instant.parse("2026-01-01T00:00:00Z")))
                .contains(Instant.parse("2026-01-01T00:01:00Z"));
    }

    @Test
    void everySecondYieldsEachSecondBetweenTwoInstants() {
        assertThat(CronSchedules.between("* * * * * ?", "UTC", Instant.parse("2026-01-01T00:00:00Z"), Instant.parse("2026-01-01T00:00:04Z"), 100))
                .hasSize(5);
        assertThat(CronSchedules.between("* * * * * ?", "UTC", Instant.parse("2026-01-01T00:00:00Z"), Instant.parse("2026-01-01T01:00:00Z"), 10))
                .as("bounded").hasSize(10);
    }
}
