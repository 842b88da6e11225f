package dev.tandem.replicator.testing;

import dev.tandem.replicator.witness.Lease;
import dev.tandem.replicator.witness.Witness;
import java.util.Optional;

/**
 * The witness in memory, with the S3 witness's contract: every write is conditional on the version
 * the writer saw and makes a new version; it can be made unreachable, and another site can write
 * the lease behind the back of the code under test.
 */
public final class MemoryWitness implements Witness {
    private Lease stored;
    private int versions;
    private boolean down;

    public synchronized void down(boolean unreachable) {
        down = unreachable;
    }

    /** Another site writes the lease (unconditionally, as a contender whose write landed). */
    public synchronized Lease writtenBy(String holder, long epoch, long beat) {
        stored = new Lease(holder, epoch, beat, "v" + ++versions);
        return stored;
    }

    public synchronized Optional<Lease> stored() {
        return Optional.ofNullable(stored);
    }

    @Override
    public synchronized Optional<Lease> read() throws WitnessUnavailableException {
        unreachable();
        return Optional.ofNullable(stored);
    }

    @Override
    public synchronized Lease create(String holder, long epoch, long beat) throws WitnessUnavailableException, LeaseConflictException {
        unreachable();
        if (stored != null) {
            throw new LeaseConflictException("a lease exists: " + stored);
        }
        return writtenBy(holder, epoch, beat);
    }

    @Override
    public synchronized Lease replace(Lease current, String holder, long epoch, long beat)
            throws WitnessUnavailableException, LeaseConflictException {
        unreachable();
        if (stored == null || !stored.version().equals(current.version())) {
            throw new LeaseConflictException("the lease is no longer version " + current.version());
        }
        return writtenBy(holder, epoch, beat);
    }

    private void unreachable() throws WitnessUnavailableException {
        if (down) {
            throw new WitnessUnavailableException("the witness did not answer within 800 ms", null);
        }
    }

    @Override
    public String describe() {
        return "memory";
    }

    @Override
    public void close() {
    }
}
