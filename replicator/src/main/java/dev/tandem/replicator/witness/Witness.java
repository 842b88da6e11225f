package dev.tandem.replicator.witness;

import java.util.Optional;

/**
 * A strongly consistent store that keeps the one lease two sites cannot both hold: every write is
 * conditional on the version the writer last saw (compare-and-set), so of two contenders exactly
 * one wins. Calls are bounded by the store's timeout.
 */
public interface Witness extends AutoCloseable {
    /** The lease as stored now; empty when none was ever written. */
    Optional<Lease> read() throws WitnessUnavailableException;

    /** Writes the first lease; refused with {@link LeaseConflictException} if one exists. */
    Lease create(String holder, long epoch, long beat) throws WitnessUnavailableException, LeaseConflictException;

    /** Replaces {@code current} only if it is still the stored version. */
    Lease replace(Lease current, String holder, long epoch, long beat) throws WitnessUnavailableException, LeaseConflictException;

    /** Where the lease is kept, for messages. */
    String describe();

    @Override
    void close();

    /** The store did not answer (in time): nothing is known about the lease. */
    final class WitnessUnavailableException extends Exception {
        public WitnessUnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The stored lease was not the version the write was conditional on: someone else wrote it. */
    final class LeaseConflictException extends Exception {
        public LeaseConflictException(String message) {
            super(message);
        }
    }
}
