package dev.tandem.runtime.execution;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.runtime.refusal.Refusal;
import dev.tandem.runtime.keys.KeyType;
import dev.tandem.runtime.keys.MasterKeys;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jdbi.v3.core.Handle;

/**
 * The option values a queued run needs on the member that picks it up. Secure values never sit
 * in the database in clear: with any present, the payload is sealed with the key-storage master
 * key (every member of a site shares it), and without one such a run is not forwarded.
 */
final class QueuedPayload {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<Map<String, String>> MAP = new TypeReference<>() {};

    private final byte[] bytes;
    private final String keyId;
    private final byte[] nonce;

    private QueuedPayload(byte[] bytes, String keyId, byte[] nonce) {
        this.bytes = bytes;
        this.keyId = keyId;
        this.nonce = nonce;
    }

    static QueuedPayload of(Map<String, String> given, ResolvedOptions resolved, MasterKeys keys, UUID executionId) {
        byte[] plain;
        try {
            plain = JSON.writeValueAsBytes(given);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        boolean secret = given.keySet().stream().anyMatch(resolved.secure()::contains);
        if (!secret) {
            return new QueuedPayload(plain, null, null);
        }
        if (!keys.configured()) {
            throw new Refusal(Refusal.Kind.CONFLICT, "this run carries secure option values and cannot be forwarded to another member "
                    + "without a key-storage master key (keys.masterKeys)", "options");
        }
        MasterKeys.Sealed sealed = keys.seal(plain, "dispatch/" + executionId, KeyType.PASSWORD);
        return new QueuedPayload(sealed.ciphertext(), sealed.masterKeyId(), sealed.nonce());
    }

    void enqueue(Handle h, UUID executionId, String target) {
        h.createUpdate("""
                        INSERT INTO tandem_local.dispatch_queue (execution_id, target_member, payload, payload_key_id, payload_nonce)
                        VALUES (:id, :target, :payload, :key, :nonce)""")
                .bind("id", executionId).bind("target", target).bind("payload", bytes).bind("key", keyId).bind("nonce", nonce)
                .execute();
        h.createUpdate("SELECT pg_notify('tandem_dispatch', :target)").bind("target", target).execute();
    }

    record Claimed(UUID executionId, byte[] payload, String keyId, byte[] nonce) {
        Map<String, String> options(MasterKeys keys) {
            byte[] plain = keyId == null ? payload
                    : keys.open(new MasterKeys.Sealed(keyId, nonce, payload), "dispatch/" + executionId, KeyType.PASSWORD);
            try {
                return JSON.readValue(plain, MAP);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    static List<Claimed> claim(Handle h, String member, int limit) {
        return new ArrayList<>(h.createQuery("""
                        DELETE FROM tandem_local.dispatch_queue WHERE execution_id IN (
                            SELECT execution_id FROM tandem_local.dispatch_queue WHERE target_member = :member
                            ORDER BY enqueued_at FOR UPDATE SKIP LOCKED LIMIT :limit)
                        RETURNING execution_id, payload, payload_key_id, payload_nonce""")
                .bind("member", member).bind("limit", limit)
                .map((rs, ctx) -> new Claimed(rs.getObject(1, UUID.class), rs.getBytes(2), rs.getString(3), rs.getBytes(4)))
                .list());
    }
}
