package dev.tandem.runtime.execution;

import dev.tandem.runtime.logs.LogEntry;
import dev.tandem.runtime.logs.LogWriter;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rundeck's {@code loglimit}: a number of output lines ({@code 1000}), of lines per node
 * ({@code 100/node}) or a size of output ({@code 10MB}). When output passes it, a line says so and
 * further output is dropped; with {@code loglimitAction: halt} (the default) the execution is also
 * stopped with {@code loglimitStatus} ({@code failed}, {@code aborted}, or a custom word, recorded
 * as failed with that word in the reason); with {@code truncate} it runs on. Tandem's own lines
 * (stream {@code tandem}) are not counted and never dropped.
 */
record LogLimit(Kind kind, long amount, String text, boolean halt, ExecutionStatus status, String statusText) {
    enum Kind { LINES, LINES_PER_NODE, BYTES }

    private static final Pattern FORMAT = Pattern.compile("(\\d{1,12})(/node|[bB]|[kKmMgG][bB]?)?");

    /** Null when the job sets no limit. */
    static LogLimit of(String loglimit, String action, String status) {
        if (loglimit == null || loglimit.isBlank()) {
            return null;
        }
        Matcher m = FORMAT.matcher(loglimit.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("loglimit '" + loglimit + "' is not a line count, a count per node or a size");
        }
        long number = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "" : m.group(2).toUpperCase(Locale.ROOT);
        Kind kind = unit.isEmpty() ? Kind.LINES : unit.equals("/NODE") ? Kind.LINES_PER_NODE : Kind.BYTES;
        long factor = switch (unit.isEmpty() ? ' ' : unit.charAt(0)) {
            case 'K' -> 1024L;
            case 'M' -> 1024L * 1024;
            case 'G' -> 1024L * 1024 * 1024;
            default -> 1L;
        };
        long amount = number > Long.MAX_VALUE / factor ? Long.MAX_VALUE : number * factor;
        String word = status == null || status.isBlank() ? "failed" : status.trim();
        ExecutionStatus mapped = word.equals("aborted") ? ExecutionStatus.ABORTED : ExecutionStatus.FAILED;
        return new LogLimit(kind, amount, loglimit.trim(), !"truncate".equals(action), mapped, word);
    }

    /** The runtime's limit for jobs that set none: output past it is dropped, the run goes on. */
    static LogLimit ofDefault(String loglimit) {
        LogLimit limit = of(loglimit, "truncate", null);
        return limit == null ? null
                : new LogLimit(limit.kind(), limit.amount(), limit.text() + " (execution.defaultLogLimit)", false, limit.status(), limit.statusText());
    }

    LogWriter wrap(LogWriter log, RunningExecution execution, Clock clock) {
        return new Limited(this, log, execution, clock);
    }

    private static final class Limited implements LogWriter {
        private final LogLimit limit;
        private final LogWriter log;
        private final RunningExecution execution;
        private final Clock clock;
        private final Map<String, Long> perNode = new ConcurrentHashMap<>();
        private long used;
        private boolean exceeded;

        Limited(LogLimit limit, LogWriter log, RunningExecution execution, Clock clock) {
            this.limit = limit;
            this.log = log;
            this.execution = execution;
            this.clock = clock;
        }

        @Override
        public void append(LogEntry entry) {
            String haltReason = decide(entry);
            if (haltReason != null) {
                // Outside the lock: stopping kills processes and may wait, and other output must not wait with it.
                execution.stop(limit.status(), haltReason);
            }
        }

        /** Logs or drops the entry; returns the reason to halt the run when this entry passed the limit and the action is halt. */
        private synchronized String decide(LogEntry entry) {
            if (entry.stream().equals("tandem")) {
                log.append(entry);
                return null;
            }
            if (exceeded) {
                return null;
            }
            long after = switch (limit.kind()) {
                case LINES -> ++used;
                case LINES_PER_NODE -> perNode.merge(entry.node(), 1L, Long::sum);
                case BYTES -> used += entry.log().getBytes(StandardCharsets.UTF_8).length + 1;
            };
            if (after <= limit.amount()) {
                log.append(entry);
                return null;
            }
            exceeded = true;
            String what = "log limit " + limit.text() + (limit.kind() == Kind.LINES_PER_NODE ? " on node " + entry.node() : "") + " reached";
            if (limit.halt()) {
                String reason = what + (limit.statusText().equals(limit.status().sql()) ? "" : " (status " + limit.statusText() + ")");
                log.append(new LogEntry(clock.instant(), entry.node(), entry.step(), "tandem", "ERROR",
                        reason + "; further output is dropped and the execution is halted (loglimitAction: halt)"));
                return reason;
            }
            log.append(new LogEntry(clock.instant(), entry.node(), entry.step(), "tandem", "WARN",
                    what + "; further output is dropped and the execution goes on (loglimitAction: truncate)"));
            return null;
        }

        @Override
        public void close() {
            log.close();
        }
    }
}
