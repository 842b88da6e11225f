package dev.tandem.runtime.auth;

import dev.tandem.runtime.api.ApiException;

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

    public void require(Caller caller, String project, Permission wanted) {
        if (!allows(caller, project, wanted)) {
            throw new ApiException(403, "missing permission '" + wanted.word() + "' on project '" + project + "' for "
                    + caller.userName() + " (roles " + caller.roles() + ")", "project");
        }
    }

    public void requireAdmin(Caller caller, String action) {
        if (!caller.isAdmin()) {
            throw new ApiException(403, "missing role 'admin', needed to " + action, "roles");
        }
    }
}
