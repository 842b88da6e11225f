package dev.tandem.replicator.apply;

import dev.tandem.replicator.stream.Frame;

/**
 * A transaction arrived whose predecessor this site has not applied: something between was lost
 * on the way. Nothing is applied; the transport must resend from this site's position.
 */
public final class GapException extends RuntimeException {
    public GapException(Frame frame, long applied) {
        super("transaction " + frame.xid() + " from site '" + frame.site() + "' follows position " + frame.prevLsn()
                + " but this site has applied only up to " + applied + ": a transaction is missing, waiting for it to be resent");
    }
}
