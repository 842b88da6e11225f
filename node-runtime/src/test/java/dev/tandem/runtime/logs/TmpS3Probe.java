package dev.tandem.runtime.logs;

import dev.tandem.runtime.testing.S3Server;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class TmpS3Probe {
    @Test
    void probe() throws Exception {
        S3Server s3 = S3Server.shared();
        S3LogStore store = new S3LogStore(new S3LogStore.Settings(s3.endpoint(), "us-east-1", S3Server.BUCKET, "probe/", "test", "test", true, true, Duration.ofSeconds(10)));
        Path file = Files.createTempFile("spool", ".jsonl");
        byte[] line = ("{\"log\":\"" + "x".repeat(150) + "\"}\n").getBytes();
        try (var out = new java.io.BufferedOutputStream(Files.newOutputStream(file))) {
            for (int i = 0; i < 2000; i++) out.write(line);
        }
        UUID id = UUID.randomUUID();
        long start = System.nanoTime();
        int i = 0;
        long off = 0;
        while (System.nanoTime() - start < 45_000_000_000L) {
            i++;
            try {
                store.putChunk(id, off, file, 0, line.length * 10L);
                off += line.length * 10L;
                var chunks = store.chunks(id);
                try (var in = store.openChunk(id, chunks.get(0), 0)) { in.read(); }
                store.manifest(id);
            } catch (Exception e) {
                System.out.println("iteration " + i + " at " + (System.nanoTime() - start) / 1_000_000 + " ms failed: " + e);
                e.printStackTrace(System.out);
                return;
            }
            Thread.sleep(100);
        }
        System.out.println("no failure in " + i + " iterations");
    }
}
