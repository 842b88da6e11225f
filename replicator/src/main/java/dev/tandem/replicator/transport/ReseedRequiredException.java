package dev.tandem.replicator.transport;

/** The active site no longer holds the changes this passive site needs: only a reseed helps. */
public final class ReseedRequiredException extends RuntimeException {
    public ReseedRequiredException(String detail) {
        super("the active site no longer holds the changes this site needs (" + detail + "): reseed this site");
    }
}
