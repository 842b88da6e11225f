package dev.tandem.runtime.keys;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The master keys that encrypt key storage: AES-256-GCM, a fresh 96-bit nonce per value, the
 * key's path and type bound in as associated data (a ciphertext moved to another path does not
 * decrypt). The first key encrypts; the others only decrypt, until rotation re-encrypts them.
 * Master keys come from configuration or the environment and never enter the database.
 */
public final class MasterKeys {
    /** One master key as configured: an id and 32 bytes in base64. */
    public record Entry(String id, String base64) {}

    /** A value as stored. */
    public record Sealed(String masterKeyId, byte[] nonce, byte[] ciphertext) {}

    private final Map<String, SecretKey> keys = new LinkedHashMap<>();
    private final String currentId;
    private final SecureRandom random = new SecureRandom();

    public MasterKeys(List<Entry> entries) {
        for (Entry entry : entries) {
            byte[] bytes;
            try {
                bytes = Base64.getDecoder().decode(entry.base64().trim());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("master key '" + entry.id() + "' is not base64 (keys.masterKeys)");
            }
            if (bytes.length != 32) {
                throw new IllegalArgumentException("master key '" + entry.id() + "' must be 32 bytes (256 bits), it is " + bytes.length);
            }
            if (keys.put(entry.id(), new SecretKeySpec(bytes, "AES")) != null) {
                throw new IllegalArgumentException("master key id '" + entry.id() + "' appears twice in keys.masterKeys");
            }
        }
        this.currentId = entries.isEmpty() ? null : entries.get(0).id();
    }

    public boolean configured() {
        return currentId != null;
    }

    public Optional<String> currentId() {
        return Optional.ofNullable(currentId);
    }

    public Sealed seal(byte[] plaintext, String path, KeyType type) {
        if (currentId == null) {
            throw new KeyStorageUnavailableException();
        }
        byte[] nonce = new byte[12];
        random.nextBytes(nonce);
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, keys.get(currentId), new GCMParameterSpec(128, nonce));
            cipher.updateAAD(aad(path, type));
            return new Sealed(currentId, nonce, cipher.doFinal(plaintext));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is unavailable in this JVM", e);
        }
    }

    public byte[] open(Sealed sealed, String path, KeyType type) {
        SecretKey key = keys.get(sealed.masterKeyId());
        if (key == null) {
            throw new IllegalStateException("key " + path + " is encrypted with master key '" + sealed.masterKeyId()
                    + "', which is not configured (keys.masterKeys); add it back to read or rotate this key");
        }
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, sealed.nonce()));
            cipher.updateAAD(aad(path, type));
            return cipher.doFinal(sealed.ciphertext());
        } catch (javax.crypto.AEADBadTagException e) {
            throw new IllegalStateException("key " + path + " failed its integrity check: it was altered or moved", e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot decrypt key " + path + ": " + e.getMessage(), e);
        }
    }

    private static byte[] aad(String path, KeyType type) {
        return (type.sql() + ":" + path).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
}
