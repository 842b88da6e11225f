package dev.tandem.replicator.failback;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Where divergence reports are kept: one JSON and one text file per report, never overwritten. */
public final class ReportFolder {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private final Path folder;

    public ReportFolder(Path folder) {
        this.folder = folder;
    }

    /** Writes the report; returns the JSON file (the text file sits next to it, ending in .txt). */
    public Path write(DivergenceReport report) {
        try {
            Files.createDirectories(folder);
            String name = "divergence-" + report.site() + "-epoch" + report.epoch() + "-" + report.generatedAt().replace(':', '-');
            Path json = folder.resolve(name + ".json");
            JSON.writeValue(json.toFile(), report);
            Files.writeString(folder.resolve(name + ".txt"), report.text());
            return json.toAbsolutePath();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the divergence report to " + folder.toAbsolutePath() + ": " + e.getMessage()
                    + " (failover.reportDir); nothing was overwritten", e);
        }
    }

    /** The newest report in the folder, or null. */
    public DivergenceReport newest() {
        if (!Files.isDirectory(folder)) {
            return null;
        }
        try (Stream<Path> files = Files.list(folder)) {
            Path newest = files.filter(p -> p.getFileName().toString().endsWith(".json"))
                    .max(Comparator.comparing(p -> p.getFileName().toString().replaceAll("^divergence-.*-epoch\\d+-", ""))).orElse(null);
            return newest == null ? null : JSON.readValue(newest.toFile(), DivergenceReport.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the divergence reports in " + folder.toAbsolutePath() + ": " + e.getMessage(), e);
        }
    }
}
