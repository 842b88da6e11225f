package dev.tandem.replicator.failover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.kernel.site.SiteRole;
import dev.tandem.kernel.site.SiteState;
import dev.tandem.replicator.testing.ManualTicker;
import dev.tandem.replicator.testing.MemoryPeers;
import dev.tandem.replicator.testing.MemoryWitness;
import dev.tandem.replicator.witness.Lease;
import java.time.Duration;
import java.util.ArrayList;
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
 * A passive site's promotion decision (site b, following site a), one cycle at a time on a
 * hand-moved clock: each guard's sentence, and the rule behind them — no promotion while the
 * active site's heartbeats arrive, while its lease is being renewed, or while a promise binds;
 * a promotion once it is silent and its lease stayed unchanged long enough.
 */
class PromoterCycleTest {
    static final FailoverSettings SETTINGS = ActiveLeaseCycleTest.SETTINGS;
    static final SiteState PASSIVE = new SiteState("b", SiteRole.PASSIVE, 1, "http://site-a.test");

    ManualTicker clock;
    MemoryWitness witness;
    MemoryPeers peers;
    Promises promises;
    long lastHeartbeat;
    long applied;
    final List<String> promotions = new ArrayList<>();
    final List<String> followed = new ArrayList<>();
    Promoter promoter;

    @BeforeEach
    void sites() {
        clock = new ManualTicker();
        witness = new MemoryWitness();
        witness.writtenBy("a", 1, 1);
        peers = new MemoryPeers();
        peers.site("a").role = "active";
        promises = new Promises(SETTINGS.leaseTtl(), clock);
        lastHeartbeat = clock.read();
        applied = 100;
        promotions.clear();
        followed.clear();
        promoter = new Promoter("b", witness, peers, SETTINGS, promises, new Promoter.Observations() {
            @Override
            public long silentNanos() {
                return clock.read() - lastHeartbeat;
            }

            @Override
            public long appliedPosition() {
                return applied;
            }
        }, (Lease lease, long sent, String why) -> {
            promotions.add(lease + ": " + why);
            return "promoted: " + why;
        }, (site, epoch, source) -> {
            followed.add(site + "@" + epoch);
            return "following site '" + site + "'";
        }, clock);
    }

    /** The active site dies whole: no heartbeat, no renewal, no answer. */
    void activeSiteDies() {
        peers.site("a").reachable = false;
    }

    void cycles(int count) {
        for (int i = 0; i < count; i++) {
            promoter.cycle(PASSIVE);
            clock.advance(SETTINGS.interval());
        }
    }

    @Test
    void heartbeatsArrivingMeanAlive() {
        clock.advance(Duration.ofSeconds(4));
        assertThat(promoter.cycle(PASSIVE)).isEqualTo("the active site is alive: its heartbeats arrive");
    }

    @Test
    void aSilentSiteThatStillRenewsItsLeaseIsNotReplaced() {
        peers.site("a").reachable = false; // the stream and the status calls are cut, the witness is not
        for (int second = 1; second <= 20; second++) {
            clock.advance(SETTINGS.interval());
            Lease current = witness.stored().orElseThrow();
            witness.writtenBy("a", 1, current.beat() + 1);
            String sentence = promoter.cycle(PASSIVE);
            if (second >= 5) {
                assertThat(sentence).isEqualTo("the active site has been silent longer than failover.promoteAfter (5000 ms); waiting for "
                        + "the witness lease (held by site 'a' at epoch 1) to stay unchanged for failover.leaseTtl (4000 ms)");
            }
        }
        assertThat(promotions).isEmpty();
    }

    @Test
    void aDeadActiveSiteIsReplacedOnceSilentAndItsLeaseUnchanged() {
        activeSiteDies();
        long died = clock.read();
        while (promotions.isEmpty()) {
            assertThat(clock.read() - died).as("promoted within promoteAfter plus one interval")
                    .isLessThanOrEqualTo(SETTINGS.promoteAfter().plus(SETTINGS.interval()).toNanos());
            promoter.cycle(PASSIVE);
            clock.advance(SETTINGS.interval());
        }
        assertThat(promotions.get(0)).startsWith("site 'b' at epoch 2: the active site was silent for 5000 ms (failover.promoteAfter 5000 ms) "
                + "and the witness lease held by site 'a' at epoch 1 stayed unchanged for 5000 ms (failover.leaseTtl 4000 ms): "
                + "site 'b' took it at epoch 2");
        assertThat(witness.stored().orElseThrow().holder()).isEqualTo("b");
    }

    @Test
    void aFreshPromiseHoldsThePromotionBack() {
        activeSiteDies();
        clock.advance(Duration.ofSeconds(6));
        promoter.cycle(PASSIVE);
        clock.advance(Duration.ofSeconds(5));
        assertThat(promises.give("a")).isTrue();
        assertThat(promoter.cycle(PASSIVE)).isEqualTo("the active site has been silent longer than failover.promoteAfter (5000 ms), but "
                + "site 'a' asked this site within failover.leaseTtl to stay passive, so it is alive: no promotion");
        clock.advance(SETTINGS.leaseTtl());
        promoter.cycle(PASSIVE);
        assertThat(promotions).hasSize(1);
        assertThat(promises.give("a")).as("no promise once promoting").isFalse();
    }

    @Test
    void anActiveSiteThatAnswersIsAliveThoughItsStreamIsBroken() {
        clock.advance(Duration.ofSeconds(10));
        assertThat(promoter.cycle(PASSIVE)).isEqualTo("the active site has been silent longer than failover.promoteAfter (5000 ms), but "
                + "site 'a' answers as active at epoch 1: the change stream is broken while the site is alive (no promotion; repair the stream)");
        assertThat(promoter.alert()).contains("repair the stream");
        // One lost probe does not make it dead: its last answer counts for fenceAfter.
        peers.site("a").reachable = false;
        clock.advance(Duration.ofSeconds(2));
        assertThat(promoter.cycle(PASSIVE)).contains("answers as active at epoch 1");
        assertThat(promotions).isEmpty();
    }

    @Test
    void aPassiveSiteThatAppliedMoreIsTheOneToPromote() {
        activeSiteDies();
        peers.site("c").appliedPosition = 150;
        clock.advance(Duration.ofSeconds(10));
        promoter.cycle(PASSIVE);
        clock.advance(Duration.ofSeconds(5));
        assertThat(promoter.cycle(PASSIVE)).isEqualTo("the active site has been silent longer than failover.promoteAfter (5000 ms), but "
                + "passive site 'c' applied more (position 150 > 100): it is the one to promote");
        assertThat(promotions).isEmpty();
    }

    @Test
    void noPromotionWithoutTheWitness() {
        activeSiteDies();
        witness.down(true);
        clock.advance(Duration.ofSeconds(30));
        assertThat(promoter.cycle(PASSIVE)).isEqualTo("the active site has been silent longer than failover.promoteAfter (5000 ms), but "
                + "the witness is unreachable (the witness did not answer within 800 ms): no promotion without the lease");
        assertThat(promotions).isEmpty();
    }

    @Test
    void anotherSitePromotedAboveThisEpochIsFollowed() {
        activeSiteDies();
        peers.site("c").role = "active";
        peers.site("c").epoch = 2;
        clock.advance(Duration.ofSeconds(10));
        assertThat(promoter.cycle(PASSIVE)).endsWith("(it was promoted): no promotion; following site 'c'");
        assertThat(followed).containsExactly("c@2");
        assertThat(promotions).isEmpty();
    }

    /** One interval of the world as the passive site sees it. */
    record Step(boolean heartbeat, boolean renewal, boolean activeAnswers, boolean witnessUp, boolean promiseAsked, int advanceMillis) {}

    @Provide
    Arbitrary<List<Step>> timelines() {
        Arbitrary<Boolean> often = Arbitraries.of(true, true, true, false);
        Arbitrary<Boolean> rarely = Arbitraries.of(true, false, false, false, false);
        return Combinators.combine(rarely, rarely, rarely, often, rarely, Arbitraries.integers().between(0, 3000))
                .as(Step::new).list().ofMinSize(1).ofMaxSize(60);
    }

    /**
     * Whatever the active site, the witness and the promises do, and however late the cycles run:
     * the site is promoted only when the active site has been silent for promoteAfter, its lease
     * unchanged for leaseTtl, and no promise given within leaseTtl.
     */
    @Property(tries = 500)
    void neverPromotesASiteThatShowedLifeTooRecently(@ForAll("timelines") List<Step> timeline) {
        sites();
        long lastRenewal = clock.read();
        long lastPromise = Long.MIN_VALUE;
        for (Step step : timeline) {
            long now = clock.read();
            if (step.heartbeat()) {
                lastHeartbeat = now;
            }
            if (step.renewal()) {
                witness.writtenBy("a", 1, witness.stored().orElseThrow().beat() + 1);
                lastRenewal = now;
            }
            if (step.promiseAsked() && promises.give("a")) {
                lastPromise = now;
            }
            peers.site("a").reachable = step.activeAnswers();
            witness.down(!step.witnessUp());
            promoter.cycle(PASSIVE);
            if (!promotions.isEmpty()) {
                assertThat(now - lastHeartbeat).isGreaterThanOrEqualTo(SETTINGS.promoteAfter().toNanos());
                assertThat(now - lastRenewal).isGreaterThanOrEqualTo(SETTINGS.leaseTtl().toNanos());
                if (lastPromise != Long.MIN_VALUE) {
                    assertThat(now - lastPromise).isGreaterThanOrEqualTo(SETTINGS.leaseTtl().toNanos());
                }
                assertThat(witness.stored().orElseThrow()).satisfies(l -> assertThat(l.holder()).isEqualTo("b"));
                return;
            }
            clock.advance(Duration.ofMillis(step.advanceMillis()));
        }
    }
}
