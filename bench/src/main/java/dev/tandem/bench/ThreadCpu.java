package dev.tandem.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * CPU time (Linux /proc, in ticks of 1/100 s) of a process's threads grouped by name, and of all
 * children of a process (a PostgreSQL server's backends and walsenders): where a bulk's CPU went.
 */
final class ThreadCpu {
    private ThreadCpu() {}

    /** Thread name (numbers replaced by #) to CPU ticks used so far, over the live threads of {@code pid}. */
    static Map<String, Long> threads(long pid) {
        Map<String, Long> byName = new HashMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            tasks.forEach(task -> {
                try {
                    String name = Files.readString(task.resolve("comm")).trim().replaceAll("\\d+", "#");
                    if (name.startsWith("dw-#")) {
                        name = "dw-# (http)";
                    }
                    byName.merge(name, ticks(Files.readString(task.resolve("stat"))), Long::sum);
                } catch (IOException e) {
                    // the thread ended meanwhile
                }
            });
        } catch (IOException e) {
            return Map.of();
        }
        return byName;
    }

    /**
     * CPU ticks used so far by the live children of {@code parent}, by what they are (for a
     * PostgreSQL server: "walwriter", "walsender", "postgres tandem" for a backend of database tandem).
     */
    static Map<String, Long> children(long parent) {
        Map<String, Long> byName = new HashMap<>();
        try {
            // children that have ended (short connections) count in the parent's cutime and cstime; one
            // reaped between this read and the scan below is missed (a figure slightly low, never doubled)
            String stat = Files.readString(Path.of("/proc/" + parent + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            byName.put("ended", Long.parseLong(f[13]) + Long.parseLong(f[14]));
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
        try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) processes::iterator) {
                if (!p.getFileName().toString().chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    if (Long.parseLong(f[1]) == parent) {
                        String[] words = Files.readString(p.resolve("cmdline")).replace('\0', ' ').trim().split("\\s+");
                        String name = words.length > 1 && words[0].equals("postgres:")
                                ? String.join(" ", java.util.Arrays.copyOfRange(words, 1, Math.min(words.length, 3))) : words[0];
                        if (name.startsWith("walsender")) {
                            name = "walsender";
                        }
                        byName.merge(name, ticks(stat), Long::sum);
                    }
                } catch (IOException | RuntimeException e) {
                    // the process ended meanwhile
                }
            }
        } catch (IOException e) {
            return Map.of();
        }
        return byName;
    }

    static long total(Map<String, Long> ticks) {
        return ticks.values().stream().mapToLong(Long::longValue).sum();
    }

    /** The groups that used at least 0.05 s between the two snapshots, largest first, in seconds. */
    static Map<String, Double> delta(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Double> used = new LinkedHashMap<>();
        after.entrySet().stream()
                .map(e -> Map.entry(e.getKey(), (e.getValue() - before.getOrDefault(e.getKey(), 0L)) / 100.0))
                .filter(e -> e.getValue() >= 0.05)
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .forEach(e -> used.put(e.getKey(), e.getValue()));
        return used;
    }

    private static long ticks(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }
}
