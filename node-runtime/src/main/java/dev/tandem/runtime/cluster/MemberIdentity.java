package dev.tandem.runtime.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/** A member's stable id: from configuration, else generated once and kept in the data folder. */
public record MemberIdentity(String id, String name) {

    public static MemberIdentity resolve(String configuredId, String configuredName, Path dataDir) {
        String id = configuredId == null || configuredId.isBlank() ? persistedId(dataDir) : configuredId.trim();
        String name = configuredName == null || configuredName.isBlank() ? hostName() : configuredName.trim();
        return new MemberIdentity(id, name);
    }

    private static String persistedId(Path dataDir) {
        Path file = dataDir.resolve("member-id");
        try {
            if (Files.exists(file)) {
                String id = Files.readString(file).trim();
                if (!id.isEmpty()) {
                    return id;
                }
            }
            Files.createDirectories(dataDir);
            String id = UUID.randomUUID().toString();
            Files.writeString(file, id + "\n");
            return id;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or create the member id in " + file + ": " + e.getMessage(), e);
        }
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
