package dev.tandem.replicator.apply;

/** A transaction that this site must not apply: from a site or epoch it does not follow. */
public final class ApplyRefusedException extends RuntimeException {
    public ApplyRefusedException(String message) {
        super(message);
    }
}
