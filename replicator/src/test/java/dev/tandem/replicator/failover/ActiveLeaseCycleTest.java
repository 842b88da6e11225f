package dev.tandem.replicator.failover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.kernel.site.SiteRole;
import dev.tandem.kernel.site.SiteState;
import dev.tandem.replicator.testing.ManualTicker;
import dev.tandem.replicator.testing.MemoryPeers;
import dev.tandem.replicator.testing.MemoryWitness;
import dev.tandem.replicator.testing.RecordingWrites;
import java.time.Duration;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The active site's lease keeping, one cycle at a time on a hand-moved clock (no database, no
 * network): what each cycle decides and says, and the safety rule behind it — the site's writes
 * never outlive {@code fenceAfter} after the last call that secured them, and once that passed
 * without a new one the site is fenced.
 */
class ActiveLeaseCycleTest {
    static final FailoverSettings SETTINGS = new FailoverSettings(true, Duration.ofSeconds(1), Duration.ofSeconds(3),
            Duration.ofMillis(500), Duration.ofSeconds(4), Duration.ofSeconds(5), Duration.ofMillis(800), "http://site-a.test");
    static final SiteState ACTIVE = new SiteState("a", SiteRole.ACTIVE, 1, "http://site-a.test");

    ManualTicker clock;
    MemoryWitness witness;
    MemoryPeers peers;
    RecordingWrites writes;
    ActiveLease lease;

    @BeforeEach
    void site() {
        clock = new ManualTicker();
        witness = new MemoryWitness();
        peers = new MemoryPeers();
        peers.site("b");
        writes = new RecordingWrites();
        lease = new ActiveLease("a", witness, peers, List.of("b"), SETTINGS, writes, clock);
    }

    @Test
    void aRenewalExtendsWritesToFenceAfterFromWhenItWasSent() {
        long sent = clock.read();
        assertThat(lease.cycle(ACTIVE)).isEqualTo("site 'a' holds the witness lease at epoch 1");
        assertThat(writes.deadlineNanos()).isEqualTo(sent + SETTINGS.fenceAfter().toNanos());
        assertThat(witness.stored().orElseThrow().holder()).isEqualTo("a");
        clock.advance(SETTINGS.interval());
        assertThat(lease.cycle(ACTIVE)).isEqualTo("site 'a' holds the witness lease at epoch 1");
        assertThat(witness.stored().orElseThrow().beat()).isEqualTo(2);
    }

    @Test
    void withoutTheWitnessEveryPassiveSitesPromiseKeepsTheSiteActive() {
        lease.cycle(ACTIVE);
        witness.down(true);
        clock.advance(Duration.ofSeconds(10));
        long sent = clock.read();
        assertThat(lease.cycle(ACTIVE)).isEqualTo("site 'a' cannot renew the witness lease (the witness did not answer within 800 ms) "
                + "but every passive site promised to stay passive: it stays active");
        assertThat(writes.deadlineNanos()).isEqualTo(sent + SETTINGS.fenceAfter().toNanos());
        assertThat(writes.fenced()).isFalse();
    }

    @Test
    void withNeitherTheSiteFencesOnceFenceAfterPassedSinceTheLastSuccess() {
        lease.cycle(ACTIVE);
        long secured = writes.deadlineNanos();
        witness.down(true);
        peers.site("b").reachable = false;
        for (int i = 1; i <= 3; i++) {
            clock.advance(SETTINGS.interval());
            assertThat(lease.cycle(ACTIVE)).startsWith("site 'a' could not renew the witness lease (the witness did not answer within 800 ms)"
                    + " nor get every promise (http://site-b.test:8280: no answer within 500 ms): its writes stop 3000 ms after the last success");
            assertThat(writes.deadlineNanos()).isEqualTo(secured);
        }
        clock.advance(Duration.ofMillis(1));
        assertThat(lease.cycle(ACTIVE)).isEqualTo("site 'a' fenced by its replicator: no lease renewal succeeded and not every passive site "
                + "promised to stay passive for 3001 ms (failover.fenceAfter 3000 ms); witness: the witness did not answer within 800 ms; "
                + "passive sites: http://site-b.test:8280: no answer within 500 ms");
        assertThat(writes.fenced()).isTrue();
    }

    @Test
    void aLeaseTakenAtAHigherEpochFencesAtOnce() {
        lease.cycle(ACTIVE);
        witness.writtenBy("b", 2, 1);
        clock.advance(SETTINGS.interval());
        assertThat(lease.cycle(ACTIVE)).isEqualTo("site 'a' fenced by its replicator: the witness lease is held by site 'b' at epoch 2 "
                + "(this site is at epoch 1)");
        assertThat(writes.fenced()).isTrue();
    }

    @Test
    void aPassiveSiteAnsweringAsActiveAboveThisEpochFencesEvenWithoutTheWitness() {
        lease.cycle(ACTIVE);
        witness.down(true);
        peers.site("b").role = "active";
        peers.site("b").epoch = 2;
        clock.advance(SETTINGS.interval());
        assertThat(lease.cycle(ACTIVE)).isEqualTo("site 'a' fenced by its replicator: site 'b' is active at epoch 2, higher than this site's 1");
    }

    @Test
    void neverSecuredByThisReplicatorItWaitsWithoutFencing() {
        witness.down(true);
        peers.site("b").promises = false;
        for (int i = 0; i < 10; i++) {
            assertThat(lease.cycle(ACTIVE)).startsWith("site 'a' is active but not secured yet");
            clock.advance(SETTINGS.interval());
        }
        assertThat(writes.fenced()).isFalse();
        assertThat(writes.extensions()).isZero();
    }

    /** One interval of the world: is the witness reachable, does the passive site promise, how long the cycle waited. */
    record Step(boolean witnessUp, boolean peerPromises, int advanceMillis) {}

    @Provide
    Arbitrary<List<Step>> timelines() {
        return Combinators.combine(Arbitraries.of(true, true, false), Arbitraries.of(true, false, false), Arbitraries.integers().between(0, 2500))
                .as(Step::new).list().ofMinSize(1).ofMaxSize(40);
    }

    /**
     * Whatever the witness and the passive site do and however late the cycles run: the deadline
     * written is always the last securing call's sending time plus fenceAfter, never later; and a
     * cycle that finds that time passed without a new success fences.
     */
    @Property(tries = 500)
    void writesNeverOutliveFenceAfterAfterTheLastSecuringCall(@ForAll("timelines") List<Step> timeline) {
        site();
        long lastSecured = Long.MIN_VALUE;
        for (Step step : timeline) {
            witness.down(!step.witnessUp());
            peers.site("b").promises = step.peerPromises();
            long sent = clock.read();
            String sentence = lease.cycle(ACTIVE);
            boolean securedNow = step.witnessUp() || step.peerPromises();
            if (writes.fenced()) {
                assertThat(sentence).contains("fenced by its replicator");
                assertThat(lastSecured).isNotEqualTo(Long.MIN_VALUE);
                assertThat(sent - lastSecured).isGreaterThan(SETTINGS.fenceAfter().toNanos());
                return;
            }
            if (securedNow) {
                lastSecured = sent;
            }
            if (lastSecured != Long.MIN_VALUE) {
                assertThat(writes.deadlineNanos()).isEqualTo(lastSecured + SETTINGS.fenceAfter().toNanos());
                assertThat(clock.read() - lastSecured).isLessThanOrEqualTo(SETTINGS.fenceAfter().toNanos());
            } else {
                assertThat(writes.extensions()).isZero();
            }
            clock.advance(Duration.ofMillis(step.advanceMillis()));
        }
    }
}
