package dev.tandem.runtime.auth;

import dev.tandem.runtime.refusal.Refusal;

/**
 * Role-based access: the built-in role {@code admin} may do everything; other roles are groups
 * whose grants give a permission per project. A refusal names the missing permission.
 */
public final class AccessControl {
    private final GroupRepository groups;

    public AccessControl(GroupRepository groups) {
        this.groups = groups;
    }

    public boolean allows(Caller caller, String project, Permission wanted) {
        return caller.isAdmin() || groups.grantsOf(caller.roles()).stream().anyMatch(g -> g.allows(project, wanted));
    }

    /** For work done on a user's behalf after their request (a referenced job at run time): the user's own roles now. */
    public java.util.Optional<String> refusal(java.util.Optional<UserRecord> user, String userName, String project, Permission wanted) {
        if (user.isEmpty()) {
            return java.util.Optional.of("user '" + userName + "' does not exist (a scheduled job runs references with the grants of "
                    + "the user who last saved it)");
        }
        Caller asUser = new Caller(user.get().id(), user.get().name(), null, user.get().roles());
        return allows(asUser, project, wanted) ? java.util.Optional.empty()
                : java.util.Optional.of("missing permission '" + wanted.word() + "' on project '" + project + "' for " + userName
                        + " (roles " + asUser.roles() + ")");
    }

    public void require(Caller caller, String project, Permission wanted) {
        if (!allows(caller, project, wanted)) {
            throw new Refusal(Refusal.Kind.FORBIDDEN, "missing permission '" + wanted.word() + "' on project '" + project + "' for "
                    + caller.userName() + " (roles " + caller.roles() + ")", "project");
        }
    }

    /**
     * For a thing of a project (a job, an execution) named by id: one in a project the caller may
     * not even read answers 404 exactly as a missing one does, so ids cannot be probed; one they
     * may read but not act on names the missing permission.
     */
    public void requireOn(Caller caller, String project, Permission wanted, String what) {
        if (!allows(caller, project, Permission.READ)) {
            throw Refusal.notFound(what);
        }
        require(caller, project, wanted);
    }

    public void requireAdmin(Caller caller, String action) {
        if (!caller.isAdmin()) {
            throw new Refusal(Refusal.Kind.FORBIDDEN, "missing role 'admin', needed to " + action, "roles");
        }
    }
}
