package dev.tandem.replicator.witness;

/**
 * The witness lease as stored: which site holds it, at which epoch, and the store's version of the
 * object (an S3 ETag). Every write makes a new version, renewals included: a contender measures
 * how long one version stayed unchanged.
 */
public record Lease(String holder, long epoch, long beat, String version) {

    public boolean heldBy(String site, long siteEpoch) {
        return holder.equals(site) && epoch == siteEpoch;
    }

    @Override
    public String toString() {
        return "site '" + holder + "' at epoch " + epoch;
    }
}
