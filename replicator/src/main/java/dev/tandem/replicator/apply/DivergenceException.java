package dev.tandem.replicator.apply;

import dev.tandem.replicator.stream.Frame;

/** The source changes a row this site does not have: the sites have diverged; only a reseed helps. */
public final class DivergenceException extends RuntimeException {
    public DivergenceException(Frame frame, String table) {
        super("source transaction " + frame.xid() + " from site '" + frame.site() + "' updates a row of tandem." + table
                + " that this site does not have: the sites have diverged; reseed this site");
    }
}
