package dev.tandem.runtime.api;

import dev.tandem.runtime.refusal.Refusal;
import dev.tandem.runtime.auth.AccessControl;
import dev.tandem.runtime.auth.AuthRepository;
import dev.tandem.runtime.auth.Caller;
import dev.tandem.runtime.auth.Grant;
import dev.tandem.runtime.auth.Group;
import dev.tandem.runtime.auth.GroupRepository;
import dev.tandem.runtime.auth.PasswordHasher;
import dev.tandem.runtime.auth.Permission;
import dev.tandem.runtime.auth.UserRecord;
import io.dropwizard.auth.Auth;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/** Users and groups (roles), shared by every member through the replicated schema. Admins only. */
@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public final class AccessResource {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.@\\-]{0,99}");
    private static final int MIN_PASSWORD = 12;

    private final AuthRepository users;
    private final GroupRepository groups;
    private final AccessControl access;
    private final PasswordHasher hasher;
    private final ApiLimits limits;

    public AccessResource(AuthRepository users, GroupRepository groups, AccessControl access, PasswordHasher hasher, ApiLimits limits) {
        this.users = users;
        this.limits = limits;
        this.groups = groups;
        this.access = access;
        this.hasher = hasher;
    }

    /** {@code currentPassword}: required to change one's own password. */
    public record UserRequest(String name, String password, Set<String> roles, String currentPassword) {}

    /** A user as shown: never the password or its hash. */
    public record UserView(String name, Set<String> roles, boolean hasPassword) {}

    public record GroupRequest(String name, String description, List<Grant> grants) {}

    @GET
    @Path("users")
    public List<UserView> listUsers(@Auth Caller caller) {
        access.requireAdmin(caller, "list users");
        return users.listUsers().stream().map(AccessResource::view).toList();
    }

    @GET
    @Path("users/{name}")
    public UserView getUser(@Auth Caller caller, @PathParam("name") String name) {
        if (!caller.userName().equals(name)) {
            access.requireAdmin(caller, "read another user");
        }
        return users.findUser(name).map(AccessResource::view).orElseThrow(() -> Refusal.notFound("user '" + name + "'"));
    }

    @POST
    @Path("users")
    public Response createUser(@Auth Caller caller, UserRequest request) {
        access.requireAdmin(caller, "create users");
        if (request == null || request.name() == null || !NAME.matcher(request.name()).matches()) {
            throw Refusal.badRequest("a user needs a 'name' of letters, digits, '_', '.', '@' and '-'", "name");
        }
        String hash = request.password() == null ? null : hasher.hash(checkPassword(request.password()));
        UserRecord created = users.createUser(request.name(), hash, checkRoles(request.roles() == null ? Set.of() : request.roles()));
        return Response.status(201).entity(view(created)).build();
    }

    /** Admins change anything; a user may change their own password only. */
    @PUT
    @Path("users/{name}")
    public UserView updateUser(@Auth Caller caller, @PathParam("name") String name, UserRequest request) {
        if (request == null) {
            throw Refusal.badRequest("send {\"password\": ...} and/or {\"roles\": [...]}", "body");
        }
        boolean self = caller.userName().equals(name);
        if (!self || request.roles() != null) {
            access.requireAdmin(caller, self ? "change your own roles" : "change another user");
        }
        if (self && request.password() != null) {
            requireCurrentPassword(caller, request.currentPassword());
        }
        String hash = request.password() == null ? null : hasher.hash(checkPassword(request.password()));
        return view(users.updateUser(name, hash, request.roles() == null ? null : checkRoles(request.roles())));
    }

    /**
     * A token alone does not change its user's password: whoever holds a leaked token could
     * otherwise lock the owner out. An account without a password gets its first one from an admin.
     */
    private void requireCurrentPassword(Caller caller, String currentPassword) {
        UserRecord me = users.findUser(caller.userName()).orElseThrow(() -> Refusal.notFound("user '" + caller.userName() + "'"));
        if (me.passwordHash() == null) {
            access.requireAdmin(caller, "set a first password");
            return;
        }
        if (currentPassword == null) {
            throw new Refusal(Refusal.Kind.FORBIDDEN, "changing your own password needs 'currentPassword'", "currentPassword");
        }
        if (!hasher.verify(currentPassword, me.passwordHash())) {
            throw new Refusal(Refusal.Kind.FORBIDDEN, "'currentPassword' is not your current password", "currentPassword");
        }
    }

    @DELETE
    @Path("users/{name}")
    public Response deleteUser(@Auth Caller caller, @PathParam("name") String name) {
        access.requireAdmin(caller, "delete users");
        users.deleteUser(name);
        return Response.noContent().build();
    }

    @GET
    @Path("groups")
    public List<Group> listGroups(@Auth Caller caller) {
        access.requireAdmin(caller, "list groups");
        return groups.list();
    }

    @GET
    @Path("groups/{name}")
    public Group getGroup(@Auth Caller caller, @PathParam("name") String name) {
        access.requireAdmin(caller, "read groups");
        return groups.find(name).orElseThrow(() -> Refusal.notFound("group '" + name + "'"));
    }

    @POST
    @Path("groups")
    public Response createGroup(@Auth Caller caller, GroupRequest request) {
        access.requireAdmin(caller, "create groups");
        if (request == null || request.name() == null || !NAME.matcher(request.name()).matches()) {
            throw Refusal.badRequest("a group needs a 'name' of letters, digits, '_', '.', '@' and '-'", "name");
        }
        if (request.name().equals(Caller.ADMIN)) {
            throw Refusal.conflict("'admin' is the built-in role that grants everything; it is not a group");
        }
        limits.checkDescription(request.description(), "description");
        Group created = groups.create(request.name(), request.description() == null ? "" : request.description(),
                checkGrants(request.grants() == null ? List.of() : request.grants()));
        return Response.status(201).entity(created).build();
    }

    @PUT
    @Path("groups/{name}")
    public Group updateGroup(@Auth Caller caller, @PathParam("name") String name, GroupRequest request) {
        access.requireAdmin(caller, "change groups");
        if (request == null) {
            throw Refusal.badRequest("send {\"description\": ...} and/or {\"grants\": [...]}", "body");
        }
        limits.checkDescription(request.description(), "description");
        return groups.update(name, request.description(), request.grants() == null ? null : checkGrants(request.grants()));
    }

    @DELETE
    @Path("groups/{name}")
    public Response deleteGroup(@Auth Caller caller, @PathParam("name") String name) {
        access.requireAdmin(caller, "delete groups");
        groups.delete(name);
        return Response.noContent().build();
    }

    private static String checkPassword(String password) {
        if (password.length() < MIN_PASSWORD) {
            throw new Refusal(Refusal.Kind.INVALID, "a password needs at least " + MIN_PASSWORD + " characters", "password");
        }
        return password;
    }

    private Set<String> checkRoles(Set<String> roles) {
        Set<String> wanted = new LinkedHashSet<>(roles);
        wanted.remove(Caller.ADMIN);
        List<String> missing = new ArrayList<>(wanted);
        missing.removeAll(groups.existing(wanted));
        if (!missing.isEmpty()) {
            throw new Refusal(Refusal.Kind.INVALID, "unknown role(s) " + missing + "; create the group first or use 'admin'", "roles");
        }
        return new LinkedHashSet<>(roles);
    }

    private static List<Grant> checkGrants(List<Grant> grants) {
        for (int i = 0; i < grants.size(); i++) {
            Grant grant = grants.get(i);
            if (grant == null || grant.project() == null || grant.project().isBlank()) {
                throw Refusal.badRequest("a grant names a 'project' (or '*')", "grants[" + i + "].project");
            }
            try {
                Permission.parse(grant.permission());
            } catch (IllegalArgumentException e) {
                throw Refusal.badRequest(e.getMessage(), "grants[" + i + "].permission");
            }
        }
        return grants;
    }

    private static UserView view(UserRecord user) {
        return new UserView(user.name(), user.roles(), user.passwordHash() != null);
    }
}
