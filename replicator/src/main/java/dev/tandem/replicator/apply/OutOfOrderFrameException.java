package dev.tandem.replicator.apply;

/** A frame that does not continue the transaction being applied (a frame was lost on the way). */
public final class OutOfOrderFrameException extends RuntimeException {
    public OutOfOrderFrameException(String message) {
        super(message);
    }
}
