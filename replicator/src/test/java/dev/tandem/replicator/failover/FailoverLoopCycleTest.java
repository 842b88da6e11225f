package dev.tandem.replicator.failover;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import dev.tandem.kernel.site.SiteRole;
import dev.tandem.replicator.apply.ApplyStats;
import dev.tandem.replicator.failback.ReportFolder;
import dev.tandem.replicator.status.Decisions;
import dev.tandem.replicator.testing.ManualTicker;
import dev.tandem.replicator.testing.MemoryPeers;
import dev.tandem.replicator.testing.MemoryReplication;
import dev.tandem.replicator.testing.MemorySite;
import dev.tandem.replicator.testing.MemoryWitness;
import dev.tandem.replicator.witness.Lease;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole failover loop of one site, driven by hand on a moved clock with the site's state,
 * its replication, the witness and the other sites in memory: each decision's sentence and what
 * it changed (lease keeping and fencing, automatic failback, promotion, switchover with its abort,
 * the takeover a switchover asks of the passive site, forced promotion, an operator's fence).
 * Every scenario runs in microseconds; the multi-process tests keep checking the real parts.
 */
class FailoverLoopCycleTest {
    static final FailoverSettings SETTINGS = ActiveLeaseCycleTest.SETTINGS;
    static final String URL_A = "http://site-a.test";
    static final String URL_B = "http://site-b.test";

    @TempDir
    Path reports;

    /** One site's loop with everything around it in memory. */
    final class Site {
        final String id;
        final String other;
        final ManualTicker clock;
        final MemoryWitness witness;
        final MemoryPeers peers = new MemoryPeers();
        final MemorySite state;
        final MemoryReplication replication;
        final ApplyStats applyStats = new ApplyStats(new MetricRegistry());
        final Decisions decisions = new Decisions();
        /** Runs at every sleep of a switchover or forced promotion, after the clock moved. */
        Runnable whileSleeping = () -> {};
        final FailoverLoop loop;

        Site(String id, SiteRole role, String activeSite, ManualTicker clock, MemoryWitness witness) {
            this.id = id;
            this.other = id.equals("a") ? "b" : "a";
            this.clock = clock;
            this.witness = witness;
            this.state = new MemorySite(id, role, 1, activeSite, activeSite.equals("a") ? URL_A : URL_B, clock);
            this.replication = new MemoryReplication(id, state, List.of(other));
            MemoryPeers.Site peer = peers.site(other);
            peer.url = other.equals("a") ? URL_A : URL_B;
            peer.role = role == SiteRole.ACTIVE ? "passive" : "active";
            FailoverSettings settings = new FailoverSettings(SETTINGS.automatic(), SETTINGS.interval(), SETTINGS.fenceAfter(),
                    SETTINGS.fenceTime(), SETTINGS.leaseTtl(), SETTINGS.promoteAfter(), SETTINGS.witnessTimeout(), id.equals("a") ? URL_A : URL_B);
            this.loop = new FailoverLoop(id, witness, peers, List.of(other), settings, replication, state, state,
                    new Promises(SETTINGS.leaseTtl(), clock), applyStats, decisions, new ReportFolder(reports), clock, duration -> {
                        clock.advance(duration);
                        whileSleeping.run();
                    });
        }

        /** Runs cycles one interval apart until a sentence contains {@code words}; returns it (or fails after {@code most}). */
        String cycleUntil(String words, int most) {
            String sentence = null;
            for (int i = 0; i < most; i++) {
                sentence = loop.cycle();
                if (sentence.contains(words)) {
                    return sentence;
                }
                clock.advance(SETTINGS.interval());
            }
            throw new AssertionError("after " + most + " cycles the loop still says: " + sentence);
        }
    }

    Site activeSiteA() {
        return new Site("a", SiteRole.ACTIVE, "a", new ManualTicker(), new MemoryWitness());
    }

    Site passiveSiteB() {
        MemoryWitness witness = new MemoryWitness();
        witness.writtenBy("a", 1, 1);
        return new Site("b", SiteRole.PASSIVE, "a", new ManualTicker(), witness);
    }

    @Test
    void aReplicatorThatDoesNotLeadOnlyStandsBy() {
        Site a = activeSiteA();
        a.replication.leading = false;
        assertThat(a.loop.cycle()).isEqualTo("standing by: another replicator of this site leads");
        assertThat(a.witness.stored()).as("it never touches the lease").isEmpty();
        assertThat(a.state.changes()).isEmpty();
    }

    @Test
    void theActiveSiteKeepsItsLeaseAndIsFencedOnceAnotherSiteHoldsItAtAHigherEpoch() {
        Site a = activeSiteA();
        assertThat(a.loop.cycle()).isEqualTo("site 'a' holds the witness lease at epoch 1");
        assertThat(a.state.acceptsWrites()).isTrue();

        a.witness.writtenBy("b", 2, 1); // site b promoted itself while site a was cut off from it
        a.clock.advance(SETTINGS.interval());
        assertThat(a.loop.cycle()).isEqualTo("site 'a' fenced by its replicator: the witness lease is held by site 'b' at epoch 2 "
                + "(this site is at epoch 1)");
        assertThat(a.state.current().role()).isEqualTo(SiteRole.FENCED);
        assertThat(a.state.acceptsWrites()).isFalse();

        // Without automatic failback it waits for an operator, and its refusals name the new active site.
        a.peers.site("b").role = "active";
        a.peers.site("b").epoch = 2;
        a.clock.advance(SETTINGS.interval());
        assertThat(a.loop.cycle()).isEqualTo("site 'a' is fenced at epoch 1 (fenced by its replicator: the witness lease is held by "
                + "site 'b' at epoch 2 (this site is at epoch 1)): it waits for an operator; site 'b' answers as active at epoch 2 ("
                + URL_B + ")");
        assertThat(a.state.current().refusal()).endsWith("writes are accepted only by the active site at " + URL_B);
    }

    @Test
    void aFencedSiteThatHearsNobodyNamesTheWitnessHolderWithoutItsAddress() {
        Site a = activeSiteA();
        a.loop.cycle();
        a.witness.writtenBy("b", 2, 1);
        a.loop.cycle();
        a.peers.site("b").reachable = false;
        assertThat(a.loop.cycle()).endsWith("it waits for an operator; the witness lease is held by site 'b' at epoch 2; that site does "
                + "not answer here");
        assertThat(a.state.current().refusal()).endsWith("site 'b' (its address is not known here)");
    }

    @Test
    void automaticFailbackWritesTheDivergenceReportBeforeTheSiteFollowsTheNewActiveSite() throws IOException {
        Site a = activeSiteA();
        a.loop.automaticFailback(true);
        a.loop.cycle();
        a.witness.writtenBy("b", 2, 1);
        a.loop.cycle();
        MemoryPeers.Site b = a.peers.site("b");
        b.role = "active";
        b.epoch = 2;
        b.appliedOf.put("a", 900L);

        String sentence = a.loop.cycle();
        assertThat(sentence).startsWith("failback of site 'a': divergence report written to " + reports)
                .endsWith("(0 transaction(s), 0 row change(s) never applied on site 'b'); site 'a' now copies site 'b' (epoch 2) and follows it");
        try (var written = Files.list(reports)) {
            assertThat(written.count()).as("the report, as JSON and as text").isPositive();
        }
        assertThat(a.state.current().role()).isEqualTo(SiteRole.PASSIVE);
        assertThat(a.state.current().epoch()).isEqualTo(2);
        assertThat(a.state.changes()).containsSubsequence(
                "divergence report against site 'b' from position 900",
                "capture retired",
                "follows site 'b' at epoch 2 from a fresh copy",
                "reseed on next apply from " + b.source());
    }

    @Test
    void withoutAWitnessTheActiveSiteWritesWithoutADeadlineAndIsNeverFencedByTheLoop() {
        Site a = new Site("a", SiteRole.ACTIVE, "a", new ManualTicker(), null);
        for (int i = 0; i < 10; i++) {
            assertThat(a.loop.cycle()).isEqualTo("no witness configured (failover.witness.type: none): site 'a' is active and never "
                    + "promoted automatically");
            a.clock.advance(SETTINGS.promoteAfter());
        }
        assertThat(a.state.acceptsWrites()).isTrue();
        assertThat(a.state.current().leased()).isFalse();
    }

    @Test
    void aPassiveSitePromotesItselfOnlyAfterTheActiveSiteWasSilentForPromoteAfter() {
        Site b = passiveSiteB();
        b.peers.site("a").reachable = false; // site a dies whole: no heartbeat, no renewal, no answer
        long watchingFrom = b.clock.read();
        String sentence = b.cycleUntil("promoted", 20);
        assertThat(b.clock.read() - watchingFrom).as("silence before the promotion").isGreaterThanOrEqualTo(SETTINGS.promoteAfter().toNanos());
        assertThat(sentence).isEqualTo("site 'b' promoted to active at epoch 2");
        assertThat(b.witness.stored().orElseThrow()).extracting(Lease::holder, Lease::epoch).containsExactly("b", 2L);
        assertThat(b.state.acceptsWrites()).isTrue();
        assertThat(b.decisions.recent()).anySatisfy(d -> assertThat(d.sentence()).contains("took it at epoch 2"));

        b.clock.advance(SETTINGS.interval());
        assertThat(b.loop.cycle()).as("the promoted site keeps its lease from the next cycle on")
                .isEqualTo("site 'b' holds the witness lease at epoch 2");
    }

    @Test
    void aSwitchoverHandsOverOnceTheTargetAppliedEverythingAndTheOldSiteFollowsItWithoutACopy() {
        Site a = activeSiteA();
        a.loop.cycle();
        AtomicInteger sleeps = new AtomicInteger();
        a.whileSleeping = () -> {
            if (sleeps.incrementAndGet() == 3) {
                a.replication.peers().record("b", a.replication.finalHeartbeat + 1); // site b applied the final heartbeat
            }
        };
        assertThat(a.loop.switchover("b", Duration.ofSeconds(5)))
                .isEqualTo("switchover done: site 'b' is active at epoch 2 and site 'a' follows it from position 7000; nothing was lost");
        assertThat(a.state.current().role()).isEqualTo(SiteRole.PASSIVE);
        assertThat(a.state.followsFrom()).isEqualTo(7_000);
        assertThat(a.witness.stored().orElseThrow()).extracting(Lease::holder, Lease::epoch).containsExactly("b", 2L);
        assertThat(a.state.changes()).containsSubsequence(
                "drain while fenced: true",
                "fenced: switchover to site 'b' in progress: writes stopped while it applies everything",
                "final heartbeat at 1000",
                "drain while fenced: false",
                "capture retired",
                "follows site 'b' at epoch 2 from position 7000");
    }

    @Test
    void aSwitchoverWhoseTargetFallsBehindIsAbortedAndTheSiteIsActiveAgainWithItsLease() {
        Site a = activeSiteA();
        a.loop.cycle();
        assertThat(a.loop.switchover("b", Duration.ofSeconds(5)))
                .isEqualTo("switchover aborted: site 'b' did not apply everything within 5 s (applied null, needs past 1000); "
                        + "site 'a' is active again at epoch 1");
        assertThat(a.state.current().role()).isEqualTo(SiteRole.ACTIVE);
        assertThat(a.witness.stored().orElseThrow()).extracting(Lease::holder, Lease::epoch).containsExactly("a", 1L);
        assertThat(a.peers.site("b").role).as("the target was never asked to take over").isEqualTo("passive");
        assertThat(a.state.acceptsWrites()).as("the fence ended the write lease; the next renewal opens writes").isFalse();
        assertThat(a.loop.cycle()).isEqualTo("site 'a' holds the witness lease at epoch 1");
        assertThat(a.state.acceptsWrites()).isTrue();
    }

    @Test
    void aSwitchoverIsRefusedUnlessTheTargetFollowsAtThisEpoch() {
        Site a = activeSiteA();
        a.loop.cycle();
        a.peers.site("b").epoch = 0;
        assertThat(a.loop.switchover("b", Duration.ofSeconds(5)))
                .isEqualTo("refused: site 'b' is not a passive site following at epoch 1 (passive at epoch 0)");
        assertThat(a.loop.switchover("c", Duration.ofSeconds(5))).isEqualTo("refused: site 'c' is not one of this site's peers [b]");
        assertThat(a.state.acceptsWrites()).as("a refused switchover changes nothing").isTrue();
        assertThat(a.state.changes()).isEmpty();
    }

    @Test
    void thePassiveSiteTakesOverOnlyOnceItAppliedPastTheOldSitesLastTransaction() {
        Site b = passiveSiteB();
        b.applyStats.seeded(900);
        FailoverLoop.Takeover early = b.loop.takeOver("a", 1, 1_000);
        assertThat(early.status()).isEqualTo(409);
        assertThat(early.sentence()).isEqualTo("site 'b' has applied up to position 900, not yet past site 'a''s last transaction "
                + "(1000): try again");
        assertThat(b.state.current().role()).isEqualTo(SiteRole.PASSIVE);

        b.applyStats.seeded(1_001);
        b.witness.writtenBy("b", 2, 5); // site a handed the lease over
        FailoverLoop.Takeover done = b.loop.takeOver("a", 1, 1_000);
        assertThat(done.status()).isEqualTo(200);
        assertThat(done.sentence()).isEqualTo("site 'b' promoted to active at epoch 2; site 'a' follows from position 5000");
        assertThat(done.slotStart()).isEqualTo(5_000);
        assertThat(b.replication.peers().position("a")).as("its slot is held for site a from there").isEqualTo(5_000L);
        assertThat(b.state.acceptsWrites()).isTrue();

        FailoverLoop.Takeover again = b.loop.takeOver("a", 1, 1_000);
        assertThat(again.status()).as("a repeated request (the answer was lost) is answered the same way").isEqualTo(200);
        assertThat(again.slotStart()).isEqualTo(5_000);
    }

    @Test
    void aForcedPromotionSaysWhatMayBeLostFirstAndWaitsOutTheOldHoldersWritesBeforeAcceptingAny() {
        Site b = passiveSiteB();
        b.applyStats.seeded(4_200);
        String warning = b.loop.forcePromote(false);
        assertThat(warning).startsWith("not promoted: site 'b' has applied the active site's changes up to position 4200")
                .endsWith("Repeat with confirm=b to promote");
        assertThat(b.state.current().role()).isEqualTo(SiteRole.PASSIVE);

        long before = b.clock.read();
        long[] activeAt = {-1};
        b.whileSleeping = () -> {
            if (b.state.acceptsWrites() && activeAt[0] < 0) {
                activeAt[0] = b.clock.read();
            }
        };
        assertThat(b.loop.forcePromote(true)).isEqualTo("site 'b' promoted to active at epoch 2");
        assertThat(activeAt[0]).as("no write accepted while the old holder's lease could still let it write").isEqualTo(-1);
        assertThat(b.clock.read() - before).isGreaterThanOrEqualTo(SETTINGS.fenceAfter().plus(SETTINGS.fenceTime()).toNanos());
        assertThat(b.witness.stored().orElseThrow()).extracting(Lease::holder, Lease::epoch).containsExactly("b", 2L);
        assertThat(b.state.acceptsWrites()).isTrue();
    }

    @Test
    void anOperatorsFenceStopsWritesOnceAndSaysSo() {
        Site a = activeSiteA();
        a.loop.cycle();
        assertThat(a.loop.fence("disk replacement")).isEqualTo("site 'a' fenced by an operator: disk replacement");
        assertThat(a.state.acceptsWrites()).isFalse();
        assertThat(a.loop.fence("disk replacement")).isEqualTo("site 'a' was already fenced");
        assertThat(a.loop.cycle()).startsWith("site 'a' is fenced at epoch 1 (fenced by an operator: disk replacement): it waits for an "
                + "operator");
    }

    /**
     * Whenever the target applies (or never does) within a switchover's time, the switchover ends
     * with exactly one of the two sites active: done (the target active, this site following it)
     * or aborted (this site active again, the target still passive), never both and never none.
     */
    @Property(tries = 300)
    void aSwitchoverEndsWithExactlyOneActiveSite(@ForAll @IntRange(min = 0, max = 400) int sleepsBeforeApplied,
                                                 @ForAll @IntRange(min = 1, max = 6) int withinSeconds) {
        Site a = activeSiteA();
        a.loop.cycle();
        AtomicInteger sleeps = new AtomicInteger();
        a.whileSleeping = () -> {
            if (sleeps.incrementAndGet() == sleepsBeforeApplied) {
                a.replication.peers().record("b", a.replication.finalHeartbeat + 1);
            }
        };
        String outcome = a.loop.switchover("b", Duration.ofSeconds(withinSeconds));
        boolean aActive = a.state.current().role() == SiteRole.ACTIVE;
        boolean bActive = "active".equals(a.peers.site("b").role);
        assertThat(aActive ^ bActive).as(outcome).isTrue();
        // The deadline is checked before each 20 ms sleep: what arrives during the sleep that crosses it still counts.
        boolean appliedInTime = sleepsBeforeApplied > 0 && (sleepsBeforeApplied - 1) * 20L <= withinSeconds * 1000L;
        assertThat(outcome).startsWith(appliedInTime ? "switchover done" : "switchover aborted");
        assertThat(a.witness.stored().orElseThrow().holder()).isEqualTo(bActive ? "b" : "a");
    }
}
