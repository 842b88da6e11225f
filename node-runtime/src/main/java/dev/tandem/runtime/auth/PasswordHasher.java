package dev.tandem.runtime.auth;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import dev.tandem.runtime.refusal.Refusal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * Argon2id password hashes (Bouncy Castle), in the usual PHC string form
 * {@code $argon2id$v=19$m=19456,t=2,p=1$salt$hash}, so parameters can be raised later and old
 * hashes still verify.
 *
 * <p>Each hash holds 19 MiB while it runs, so at most {@code maxConcurrent} run at once; a caller
 * that cannot start one within {@code maxWait} gets 503 (a burst of logins queues briefly, then
 * is refused, instead of exhausting the heap). A login for a user who does not exist is checked
 * against a hash of the same cost ({@link #verifyNobody}), so timing does not tell which users exist.
 */
public final class PasswordHasher {
    /** Most passwords are far shorter; the bound keeps one hash's input small. */
    public static final int MAX_PASSWORD_LENGTH = 1024;

    private static final int MEMORY_KIB = 19 * 1024;
    private static final int ITERATIONS = 2;
    private static final int PARALLELISM = 1;
    private static final int HASH_BYTES = 32;
    private static final Base64.Encoder B64 = Base64.getEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getDecoder();

    private final SecureRandom random = new SecureRandom();
    private final Semaphore permits;
    private final Duration maxWait;
    private final Timer timer;
    private final String nobody;

    public PasswordHasher(int maxConcurrent, Duration maxWait, MetricRegistry metrics) {
        this.permits = new Semaphore(maxConcurrent, true);
        this.maxWait = maxWait;
        this.timer = metrics.timer("auth.password-hashes");
        this.nobody = hash("a password no user has");
    }

    public String hash(String password) {
        byte[] salt = new byte[16];
        random.nextBytes(salt);
        byte[] hash = derive(password, salt, MEMORY_KIB, ITERATIONS, PARALLELISM, HASH_BYTES);
        return "$argon2id$v=19$m=" + MEMORY_KIB + ",t=" + ITERATIONS + ",p=" + PARALLELISM
                + "$" + B64.encodeToString(salt) + "$" + B64.encodeToString(hash);
    }

    public boolean verify(String password, String encoded) {
        if (encoded == null || !encoded.startsWith("$argon2id$")) {
            return false;
        }
        String[] parts = encoded.split("\\$");
        if (parts.length != 6) {
            return false;
        }
        int memory = 0;
        int iterations = 0;
        int parallelism = 0;
        for (String param : parts[3].split(",")) {
            String[] kv = param.split("=", 2);
            int value = Integer.parseInt(kv[1]);
            switch (kv[0]) {
                case "m" -> memory = value;
                case "t" -> iterations = value;
                case "p" -> parallelism = value;
                default -> { return false; }
            }
        }
        byte[] salt = B64D.decode(parts[4]);
        byte[] expected = B64D.decode(parts[5]);
        byte[] actual = derive(password, salt, memory, iterations, parallelism, expected.length);
        return MessageDigest.isEqual(expected, actual);
    }

    /** Costs what {@link #verify} costs for a real user, and is always false. */
    public boolean verifyNobody(String password) {
        verify(password, nobody);
        return false;
    }

    private byte[] derive(String password, byte[] salt, int memoryKib, int iterations, int parallelism, int length) {
        if (password.length() > MAX_PASSWORD_LENGTH) {
            throw new Refusal(Refusal.Kind.INVALID, "a password is at most " + MAX_PASSWORD_LENGTH + " characters", "password");
        }
        if (memoryKib > 4 * MEMORY_KIB || iterations > 16 * ITERATIONS || parallelism > 16) {
            throw new IllegalArgumentException("stored hash parameters beyond any this runtime writes: m=" + memoryKib + ", t=" + iterations);
        }
        try {
            if (!permits.tryAcquire(maxWait.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new Refusal(Refusal.Kind.UNAVAILABLE, "too many password checks in progress; retry in a few seconds", "password");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Refusal(Refusal.Kind.UNAVAILABLE, "interrupted while waiting to check a password", "password");
        }
        try (Timer.Context ignored = timer.time()) {
            return argon2(password, salt, memoryKib, iterations, parallelism, length);
        } finally {
            permits.release();
        }
    }

    private static byte[] argon2(String password, byte[] salt, int memoryKib, int iterations, int parallelism, int length) {
        Argon2Parameters params = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                .withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .withMemoryAsKB(memoryKib)
                .withIterations(iterations)
                .withParallelism(parallelism)
                .withSalt(salt)
                .build();
        Argon2BytesGenerator generator = new Argon2BytesGenerator();
        generator.init(params);
        byte[] out = new byte[length];
        generator.generateBytes(password.getBytes(StandardCharsets.UTF_8), out);
        return out;
    }
}
