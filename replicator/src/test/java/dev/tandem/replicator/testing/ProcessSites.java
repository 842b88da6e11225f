package dev.tandem.replicator.testing;

import static org.awaitility.Awaitility.await;

import dev.tandem.kernel.testing.Machine;
import dev.tandem.runtime.testing.MemberProcess;
import dev.tandem.runtime.testing.S3Server;
import java.time.Duration;
import java.util.UUID;

/**
 * Two sites of real processes at the default timing (interval 1 s, fenceAfter 3 s, leaseTtl 4 s,
 * promoteAfter 5 s): on each a replicator and a runtime (members a1 and b1) of the packaged jars,
 * direct transport, one S3 witness. Site a is active and takes writes once started.
 */
public final class ProcessSites implements AutoCloseable {
    public final TwoSites sites = new TwoSites();
    public ReplicatorProcess replicatorA;
    public ReplicatorProcess replicatorB;
    public MemberProcess runtimeA;
    public MemberProcess runtimeB;

    /** Starts everything and returns once site a takes writes (its replicator holds the lease) and site b's runtime answers. */
    public ProcessSites start() throws Exception {
        sites.interval = "1s";
        String key = "witness/" + UUID.randomUUID() + ".json";
        String witness = S3Server.shared().endpoint();
        int portA = TwoSites.portForAProcess();
        int portB = TwoSites.portForAProcess();
        replicatorA = new ReplicatorProcess(sites, "a", sites.urlA(), "direct", null, "[b]", "[http://127.0.0.1:" + portB + "]", portA)
                .withExtra(FailoverSites.defaultFailover(witness, key)).start();
        replicatorB = new ReplicatorProcess(sites, "b", sites.urlB(), "direct", null, "[a]", "[http://127.0.0.1:" + portA + "]", portB)
                .withExtra(FailoverSites.defaultFailover(witness, key)).start();
        runtimeA = new MemberProcess("a1", sites.urlA(), TwoSites.portForAProcess(), TwoSites.portForAProcess()).withSite("a").start();
        runtimeB = new MemberProcess("b1", sites.urlB(), TwoSites.portForAProcess(), TwoSites.portForAProcess()).withSite("b").start();
        // A slow machine can take a while before site a's replicator holds the lease.
        await().atMost(Machine.deadline(Duration.ofSeconds(90))).until(() -> runtimeA.readyActive() && runtimeB.ready());
        return this;
    }

    @Override
    public void close() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {runtimeA, runtimeB, replicatorA, replicatorB}) {
            if (c != null) {
                c.close();
            }
        }
        sites.close();
    }
}
