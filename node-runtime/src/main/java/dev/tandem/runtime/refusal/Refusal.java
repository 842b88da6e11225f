package dev.tandem.runtime.refusal;

/**
 * A request the runtime will not carry out, for a reason the caller can act on: what kind of
 * refusal, what is wrong, and where (a job index and name, a YAML line, a field path). Services
 * and repositories throw it in their own words; only the API turns a {@link Kind} into an HTTP
 * status.
 */
public class Refusal extends RuntimeException {
    /** Why a request is refused, as the caller should understand it. */
    public enum Kind {
        /** The request cannot be read: a missing or unparseable field, a bad query parameter. */
        MALFORMED,
        /** The caller did not prove who it is (no token, a wrong or expired one). */
        UNAUTHENTICATED,
        /** The caller is known but may not do this. */
        FORBIDDEN,
        /** What the request names does not exist (or the caller may not know that it does). */
        NOT_FOUND,
        /** The request collides with the current state (a duplicate, a stale version). */
        CONFLICT,
        /** A value is larger than the configured limit allows. */
        TOO_LARGE,
        /** The request body is in a format the runtime does not read. */
        UNSUPPORTED_FORMAT,
        /** The request is readable but its content is not acceptable (a validation failure). */
        INVALID,
        /** Too many attempts in a short time; retry later. */
        THROTTLED,
        /** Something the request needs is not available now (a member, a store, the key storage); retry later. */
        UNAVAILABLE
    }

    private final Kind kind;
    private final String where;

    public Refusal(Kind kind, String message) {
        this(kind, message, null);
    }

    public Refusal(Kind kind, String message, String where) {
        super(message);
        this.kind = kind;
        this.where = where;
    }

    public Kind kind() {
        return kind;
    }

    /** Where in the request the problem is, or null when the message says it all. */
    public String where() {
        return where;
    }

    public static Refusal notFound(String what) {
        return new Refusal(Kind.NOT_FOUND, what + " not found");
    }

    public static Refusal badRequest(String message, String where) {
        return new Refusal(Kind.MALFORMED, message, where);
    }

    public static Refusal conflict(String message) {
        return new Refusal(Kind.CONFLICT, message);
    }
}
