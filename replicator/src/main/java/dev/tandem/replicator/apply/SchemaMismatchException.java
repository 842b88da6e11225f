package dev.tandem.replicator.apply;

/**
 * The source sends a table or column this site does not have (or keys a table differently).
 * Apply stops rather than guess; the passive site must run the same migrations first.
 */
public final class SchemaMismatchException extends RuntimeException {
    public SchemaMismatchException(String sourceSite, String localSite, String what) {
        super("schema mismatch: site '" + sourceSite + "' sends " + what + ", which site '" + localSite
                + "' does not have; apply stopped. Run the same Tandem version's migrations on '" + localSite
                + "' (passive sites first, see the upgrade runbook); apply resumes by itself");
    }
}
