package dev.tandem.runtime.logs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Logs in a folder shared by every member (NFS, or local for one member):
 * {@code <root>/<execution>/<offset>.jsonl} and {@code manifest.json}. Each file is written to a
 * temporary name, forced to disk, then renamed, so a reader never sees half a chunk.
 */
public final class FolderLogStore implements LogStore {
    private static final String SUFFIX = ".jsonl";
    private final Path root;

    public FolderLogStore(Path root) throws IOException {
        this.root = root;
        Files.createDirectories(root);
    }

    private Path dir(UUID id) {
        return root.resolve(id.toString());
    }

    static String chunkName(long offset) {
        String digits = Long.toString(offset); // zero-padded to 20 digits (String.format cost more than the write)
        return "0".repeat(20 - digits.length()) + digits + SUFFIX;
    }

    @Override
    public void putChunk(UUID id, long offset, Path file, long position, long length) throws IOException {
        Path dir = dir(id);
        Files.createDirectories(dir);
        Path temp = dir.resolve("." + chunkName(offset) + ".tmp");
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            long copied = 0;
            while (copied < length) {
                long n = in.transferTo(position + copied, length - copied, out);
                if (n <= 0) {
                    throw new IOException("the spool " + file + " ended at " + (position + copied) + ", before " + (position + length));
                }
                copied += n;
            }
            out.force(true);
        }
        publish(temp, dir.resolve(chunkName(offset)));
    }

    private static void publish(Path temp, Path target) throws IOException {
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @Override
    public List<Chunk> chunks(UUID id) throws IOException {
        Path dir = dir(id);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Chunk> chunks = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String name = file.getFileName().toString();
                if (name.endsWith(SUFFIX) && name.length() == 20 + SUFFIX.length() && name.chars().limit(20).allMatch(Character::isDigit)) {
                    chunks.add(new Chunk(Long.parseLong(name.substring(0, name.length() - SUFFIX.length())), Files.size(file)));
                }
            }
        } catch (NoSuchFileException e) {
            return List.of();
        }
        chunks.sort(Comparator.comparingLong(Chunk::offset));
        return chunks;
    }

    @Override
    public InputStream openChunk(UUID id, Chunk chunk, long skip) throws IOException {
        InputStream in = Files.newInputStream(dir(id).resolve(chunkName(chunk.offset())));
        in.skipNBytes(skip);
        return in;
    }

    @Override
    public void putManifest(UUID id, byte[] json) throws IOException {
        Path dir = dir(id);
        Files.createDirectories(dir);
        Path temp = dir.resolve(".manifest.json.tmp");
        try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            out.write(java.nio.ByteBuffer.wrap(json));
            out.force(true);
        }
        publish(temp, dir.resolve("manifest.json"));
    }

    @Override
    public Optional<byte[]> manifest(UUID id) throws IOException {
        try {
            return Optional.of(Files.readAllBytes(dir(id).resolve("manifest.json")));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    @Override
    public void delete(UUID id) throws IOException {
        Path dir = dir(id);
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        }
    }

    @Override
    public void probe() throws IOException {
        Path probe = root.resolve(".probe-" + UUID.randomUUID());
        Files.writeString(probe, "ok");
        Files.delete(probe);
    }

    @Override
    public String describe() {
        return "folder " + root;
    }
}
