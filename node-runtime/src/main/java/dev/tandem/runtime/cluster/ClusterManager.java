package dev.tandem.runtime.cluster;

import dev.tandem.kernel.site.SiteGate;
import dev.tandem.runtime.refusal.Refusal;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Operator actions on members: drain, pause, move schedules. Each returns and records its sentence. */
public final class ClusterManager {
    private final MemberRepository members;
    private final ScheduleRepository schedules;
    private final TakeoverLoop takeover;
    private final SiteGate gate;
    private final Decisions decisions;

    public ClusterManager(MemberRepository members, ScheduleRepository schedules, TakeoverLoop takeover, SiteGate gate, Decisions decisions) {
        this.members = members;
        this.schedules = schedules;
        this.takeover = takeover;
        this.gate = gate;
        this.decisions = decisions;
    }

    public List<MemberView> members() {
        return members.list();
    }

    /** No new executions start on the member; running ones finish; its schedules move to live members. */
    public String drain(String id, String user) {
        require(id);
        members.setDraining(id, true);
        Map<java.util.UUID, String> plan = takeover.plan(id, members.live());
        Map<String, Integer> moved = gate.write(h -> takeover.apply(h, id, plan));
        return decisions.record("drain", user + " drained member " + id + ": it starts no new execution, its running ones finish, and "
                + moved.values().stream().mapToInt(Integer::intValue).sum() + " schedule(s) moved " + moved);
    }

    public String undrain(String id, String user) {
        require(id);
        members.setDraining(id, false);
        return decisions.record("drain", user + " undrained member " + id + ": it takes new executions again");
    }

    public String pause(String id, String user) {
        require(id);
        members.setSchedulesPaused(id, true);
        return decisions.record("pause", user + " paused the schedules of member " + id + ": they fire nowhere until resumed");
    }

    public String resume(String id, String user) {
        require(id);
        members.setSchedulesPaused(id, false);
        return decisions.record("pause", user + " resumed the schedules of member " + id);
    }

    public String move(String from, String to, List<String> jobs, String user) {
        require(from);
        MemberView target = require(to);
        if (!target.state().equals("active")) {
            throw Refusal.conflict("member " + to + " is " + target.state() + "; schedules move only to an active member");
        }
        int moved = gate.write(h -> {
            List<UUID> ids;
            try {
                ids = jobs == null || jobs.isEmpty() ? schedules.ownedBy(h, from) : jobs.stream().map(UUID::fromString).toList();
            } catch (IllegalArgumentException e) {
                throw Refusal.badRequest("'jobs' lists job ids (UUIDs)", "jobs");
            }
            int count = 0;
            for (UUID job : ids) {
                count += schedules.assign(h, job, from, to);
            }
            return count;
        });
        return decisions.record("move", user + " moved " + moved + " schedule(s) from member " + from + " to member " + to);
    }

    private MemberView require(String id) {
        return members.find(id).orElseThrow(() -> Refusal.notFound("member '" + id + "'"));
    }
}
