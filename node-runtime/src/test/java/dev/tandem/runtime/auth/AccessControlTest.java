package dev.tandem.runtime.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.kernel.testing.Machine;
import dev.tandem.runtime.TandemConfiguration;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.Runs;
import dev.tandem.runtime.testing.RuntimeFixture;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The ACL matrix over HTTP: a user per permission level on project 'web', each trying every
 * project operation; plus users, groups, token ceilings and login rate limiting.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class AccessControlTest {
    static final DropwizardAppExtension<TandemConfiguration> APP = RuntimeFixture.runtime("acl");
    static final String PASSWORD = "a long enough password";
    static Api admin;
    static String jobId;
    static String executionId;
    static final Map<String, Api> USERS = new LinkedHashMap<>();

    @BeforeAll
    static void setUp() {
        admin = RuntimeFixture.api(APP);
        admin.post("/api/v1/projects", Map.of("name", "web"));
        admin.post("/api/v1/projects", Map.of("name", "db"));
        jobId = admin.postYaml("/api/v1/projects/web/jobs/import", "- name: hello\n  sequence: {commands: [{exec: echo hi}]}\n")
                .json().path("jobs").get(0).path("id").asText();
        executionId = admin.post("/api/v1/jobs/" + jobId + "/run", Map.of()).json().path("id").asText();
        for (String level : List.of("read", "run", "write", "admin")) {
            Api.Reply group = admin.post("/api/v1/groups", Map.of("name", "web-" + level,
                    "grants", List.of(Map.of("project", "web", "permission", level))));
            assertThat(group.status()).as(group.body()).isEqualTo(201);
            Api.Reply user = admin.post("/api/v1/users", Map.of("name", "u-" + level, "password", PASSWORD, "roles", List.of("web-" + level)));
            assertThat(user.status()).as(user.body()).isEqualTo(201);
            USERS.put(level, login("u-" + level));
        }
        admin.post("/api/v1/users", Map.of("name", "u-none", "password", PASSWORD));
        USERS.put("none", login("u-none"));
    }

    static Api login(String user) {
        return Runs.login(admin, user, PASSWORD);
    }

    record Operation(String name, String needs, Function<Api, Api.Reply> call) {
        /** Reached by a job's or an execution's id: without read on its project, it does not exist for the caller. */
        boolean byId() {
            return name.contains("job") && !name.contains("jobs") || name.contains("execution") && !name.contains("executions")
                    || name.contains("output") || name.contains("history");
        }
    }

    static final List<Operation> OPERATIONS = List.of(
            new Operation("read project", "read", api -> api.get("/api/v1/projects/web")),
            new Operation("read config", "read", api -> api.get("/api/v1/projects/web/config")),
            new Operation("list jobs", "read", api -> api.get("/api/v1/projects/web/jobs")),
            new Operation("export jobs", "read", api -> api.get("/api/v1/projects/web/jobs/export")),
            new Operation("read job", "read", api -> api.get("/api/v1/jobs/" + jobId)),
            new Operation("list executions", "read", api -> api.get("/api/v1/projects/web/executions")),
            new Operation("read execution", "read", api -> api.get("/api/v1/executions/" + executionId)),
            new Operation("read a job's history", "read", api -> api.get("/api/v1/jobs/" + jobId + "/executions")),
            new Operation("read output", "read", api -> api.get("/api/v1/executions/" + executionId + "/output")),
            new Operation("run job", "run", api -> api.post("/api/v1/jobs/" + jobId + "/run", Map.of())),
            new Operation("import jobs", "write", api -> api.postYaml("/api/v1/projects/web/jobs/import",
                    "- name: hello\n  sequence: {commands: [{exec: echo hi}]}\n")),
            new Operation("change config", "admin", api -> api.put("/api/v1/projects/web/config", Map.of("k", "v"))));

    static final List<String> LEVELS = List.of("none", "read", "run", "write", "admin");

    @Test
    void eachPermissionLevelMayDoExactlyWhatItIncludes() {
        for (String level : LEVELS) {
            Api api = USERS.get(level);
            for (Operation op : OPERATIONS) {
                boolean allowed = LEVELS.indexOf(level) >= LEVELS.indexOf(op.needs());
                Api.Reply reply = op.call().apply(api);
                if (allowed) {
                    assertThat(reply.status()).as(level + " may " + op.name() + ": " + reply.body()).isBetween(200, 201);
                } else if (level.equals("none") && op.byId()) {
                    assertThat(reply.status()).as(level + " cannot even see " + op.name()).isEqualTo(404);
                    assertThat(reply.json().path("error").asText()).as(op.name()).matches("(job|execution) '[0-9a-f-]+' not found");
                } else {
                    assertThat(reply.status()).as(level + " may not " + op.name()).isEqualTo(403);
                    assertThat(reply.json().path("error").asText()).as(op.name())
                            .startsWith("missing permission '" + op.needs() + "' on project 'web'");
                }
            }
        }
    }

    @Test
    void projectsWithoutReadAreInvisibleAndOtherProjectsAreOutOfReach() {
        assertThat(USERS.get("admin").get("/api/v1/projects").json().findValuesAsText("name")).containsExactly("web");
        assertThat(USERS.get("none").get("/api/v1/projects").json()).isEmpty();
        assertThat(USERS.get("admin").get("/api/v1/projects/db/jobs").status()).isEqualTo(403);
        assertThat(admin.get("/api/v1/projects").json().findValuesAsText("name")).contains("web", "db");
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "read", "run", "write", "admin"})
    void onlyTheAdminRoleManagesProjectsUsersGroupsAndGlobalKeys(String level) {
        Api api = USERS.get(level);
        Api.Reply create = api.post("/api/v1/projects", Map.of("name", "new-" + level));
        assertThat(create.status()).isEqualTo(403);
        assertThat(create.json().path("error").asText()).isEqualTo("missing role 'admin', needed to create projects");
        assertThat(api.get("/api/v1/users").status()).isEqualTo(403);
        assertThat(api.post("/api/v1/users", Map.of("name", "x" + level, "password", PASSWORD)).status()).isEqualTo(403);
        assertThat(api.get("/api/v1/groups").status()).isEqualTo(403);
        assertThat(api.postBytes("/api/v1/storage/keys/global/pw", "application/x-rundeck-data-password", "x".getBytes()).status()).isEqualTo(403);
        assertThat(api.put("/api/v1/users/u-" + level, Map.of("roles", List.of("admin"))).status())
                .as("nobody grants themselves a role").isEqualTo(403);
    }

    @Test
    void aUserChangesTheirOwnPasswordButNotTheirRoles() {
        admin.post("/api/v1/users", Map.of("name", "self", "password", PASSWORD, "roles", List.of("web-read")));
        Api self = login("self");
        assertThat(self.get("/api/v1/users/self").json().path("roles").toString()).contains("web-read");
        assertThat(self.get("/api/v1/users/self").json().has("passwordHash")).isFalse();
        assertThat(self.get("/api/v1/users/u-admin").status()).isEqualTo(403);
        assertThat(self.put("/api/v1/users/self", Map.of("password", "short", "currentPassword", PASSWORD)).status()).isEqualTo(422);
        Api.Reply tokenAlone = self.put("/api/v1/users/self", Map.of("password", "another long password"));
        assertThat(tokenAlone.status()).as("a token alone cannot take over its account").isEqualTo(403);
        assertThat(tokenAlone.json().path("error").asText()).isEqualTo("changing your own password needs 'currentPassword'");
        Api.Reply wrong = self.put("/api/v1/users/self", Map.of("password", "another long password", "currentPassword", "not it at all"));
        assertThat(wrong.status()).isEqualTo(403);
        assertThat(admin.withToken(null).post("/api/v1/tokens", Map.of("user", "self", "password", "another long password")).status())
                .as("refused changes changed nothing").isEqualTo(401);
        assertThat(self.put("/api/v1/users/self", Map.of("password", "another long password", "currentPassword", PASSWORD)).status()).isEqualTo(200);
        assertThat(admin.withToken(null).post("/api/v1/tokens", Map.of("user", "self", "password", "another long password")).status()).isEqualTo(201);
    }

    @Test
    void takingARoleFromAUserTakesItFromTheirTokensAtOnce() {
        admin.post("/api/v1/users", Map.of("name", "demoted", "password", PASSWORD, "roles", List.of("web-write")));
        Api demoted = login("demoted");
        assertThat(demoted.get("/api/v1/projects/web/jobs").status()).isEqualTo(200);
        admin.put("/api/v1/users/demoted", Map.of("roles", List.of()));
        assertThat(demoted.get("/api/v1/projects/web/jobs").status()).isEqualTo(403);
    }

    @Test
    void aTokenCannotMintATokenWithMoreRolesThanItCarries() {
        String narrow = admin.post("/api/v1/tokens", Map.of("roles", List.of(), "expiresIn", "10m")).json().path("token").asText();
        Api.Reply narrowToken = admin.post("/api/v1/tokens", Map.of("user", "admin", "roles", List.of("web-read"), "expiresIn", "10m"));
        assertThat(narrowToken.status()).as("admin holds no web-read role").isEqualTo(403);
        admin.put("/api/v1/users/admin", Map.of("roles", List.of("admin", "web-read")));
        String readOnly = admin.post("/api/v1/tokens", Map.of("roles", List.of("web-read"), "expiresIn", "10m")).json().path("token").asText();
        Api limited = admin.withToken(readOnly);
        assertThat(limited.post("/api/v1/projects", Map.of("name", "nope")).status()).as("the token is not admin").isEqualTo(403);
        Api.Reply escalate = limited.post("/api/v1/tokens", Map.of("roles", List.of("admin")));
        assertThat(escalate.status()).isEqualTo(403);
        assertThat(escalate.json().path("error").asText()).contains("cannot carry the role(s) [admin]");
        Api.Reply defaultRoles = limited.post("/api/v1/tokens", Map.of("expiresIn", "10m"));
        assertThat(defaultRoles.json().path("roles").toString()).isEqualTo("[\"web-read\"]");
        assertThat(narrow).startsWith("tdm_");
    }

    @Test
    void groupsAreCheckedAndCannotBeDeletedWhileHeld() {
        assertThat(admin.post("/api/v1/users", Map.of("name", "ghost", "roles", List.of("no-such-group"))).status()).isEqualTo(422);
        Api.Reply badGrant = admin.post("/api/v1/groups", Map.of("name", "bad", "grants", List.of(Map.of("project", "web", "permission", "own"))));
        assertThat(badGrant.status()).isEqualTo(400);
        assertThat(badGrant.json().path("where").asText()).isEqualTo("grants[0].permission");
        assertThat(admin.post("/api/v1/groups", Map.of("name", "admin")).status()).isEqualTo(409);
        Api.Reply held = admin.delete("/api/v1/groups/web-read");
        assertThat(held.status()).isEqualTo(409);
        assertThat(held.json().path("error").asText()).contains("u-read");
        assertThat(admin.put("/api/v1/groups/web-read", Map.of("grants", List.of(Map.of("project", "*", "permission", "read")))).status()).isEqualTo(200);
        assertThat(USERS.get("read").get("/api/v1/projects/db").status()).as("'*' grants every project").isEqualTo(200);
        admin.put("/api/v1/groups/web-read", Map.of("grants", List.of(Map.of("project", "web", "permission", "read"))));
    }

    @Test
    void onlyTheAdminRoleConfiguresAScriptNodeSource() {
        Map<String, Object> script = Map.of("nodeSources", List.of(Map.of("type", "script", "command", "cat /etc/hosts")));
        Api.Reply projectAdmin = USERS.get("admin").put("/api/v1/projects/web/config", script);
        assertThat(projectAdmin.status()).as("a project admin must not get a shell on the Tandem host").isEqualTo(403);
        assertThat(projectAdmin.json().path("error").asText()).contains("configure a script node source (it runs a command on the Tandem host)");
        assertThat(admin.put("/api/v1/projects/web/config", script).status()).isEqualTo(200);
        admin.put("/api/v1/projects/web/config", Map.of());
    }

    @Test
    void theLastAdminCannotBeRemoved() {
        Api.Reply demote = admin.put("/api/v1/users/admin", Map.of("roles", List.of()));
        assertThat(demote.status()).isEqualTo(409);
        assertThat(demote.json().path("error").asText()).isEqualTo("this would leave no user with the role 'admin'");
        assertThat(admin.delete("/api/v1/users/admin").status()).isEqualTo(409);
    }

    @Test
    void aBurstOfConcurrentWrongPasswordsGetsExactlyTheAllowedTriesAndHashesNoMore() throws Exception {
        admin.post("/api/v1/users", Map.of("name", "burst", "password", PASSWORD));
        Api anonymous = admin.withToken(null);
        long hashesBefore = passwordHashes();
        int attempts = 160;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(attempts);
        java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
        List<java.util.concurrent.Future<Integer>> replies = new java.util.ArrayList<>();
        for (int i = 0; i < attempts; i++) {
            String guess = "wrong guess " + i;
            replies.add(pool.submit(() -> {
                start.await();
                return anonymous.post("/api/v1/tokens", Map.of("user", "burst", "password", guess)).status();
            }));
        }
        start.countDown();
        Map<Integer, Integer> byStatus = new java.util.TreeMap<>();
        for (java.util.concurrent.Future<Integer> reply : replies) {
            byStatus.merge(reply.get(Machine.deadline(java.time.Duration.ofSeconds(60)).toSeconds(), java.util.concurrent.TimeUnit.SECONDS), 1, Integer::sum);
        }
        pool.shutdown();
        assertThat(byStatus).as("the limit is 5 failures; every other attempt waits").isEqualTo(Map.of(401, 5, 429, attempts - 5));
        assertThat(passwordHashes() - hashesBefore).as("refused attempts cost no hash").isEqualTo(5);
        assertThat(admin.get("/api/v1/projects").status()).as("the runtime serves on").isEqualTo(200);
    }

    @Test
    void aLoginForAUserWhoDoesNotExistCostsTheSameHashAsAWrongPassword() {
        admin.post("/api/v1/users", Map.of("name", "exists", "password", PASSWORD));
        Api anonymous = admin.withToken(null);
        long before = passwordHashes();
        Api.Reply known = anonymous.post("/api/v1/tokens", Map.of("user", "exists", "password", "wrong password"));
        long afterKnown = passwordHashes();
        Api.Reply unknown = anonymous.post("/api/v1/tokens", Map.of("user", "does-not-exist", "password", "wrong password"));
        assertThat(afterKnown - before).isEqualTo(1);
        assertThat(passwordHashes() - afterKnown).as("checked against a hash of the same cost").isEqualTo(1);
        assertThat(unknown.status()).isEqualTo(known.status()).isEqualTo(401);
        assertThat(unknown.body()).isEqualTo(known.body());
    }

    static long passwordHashes() {
        return APP.getEnvironment().metrics().timer("auth.password-hashes").getCount();
    }

    @Test
    void failedLoginsAreRateLimitedPerUser() {
        admin.post("/api/v1/users", Map.of("name", "guessed", "password", PASSWORD));
        Api anonymous = admin.withToken(null);
        for (int i = 0; i < 5; i++) {
            assertThat(anonymous.post("/api/v1/tokens", Map.of("user", "guessed", "password", "wrong " + i)).status()).isEqualTo(401);
        }
        Api.Reply limited = anonymous.post("/api/v1/tokens", Map.of("user", "guessed", "password", PASSWORD));
        assertThat(limited.status()).as("even the right password waits").isEqualTo(429);
        assertThat(limited.json().path("error").asText()).startsWith("too many failed logins for user 'guessed'; retry in");
        assertThat(anonymous.post("/api/v1/tokens", Map.of("user", "u-read", "password", PASSWORD)).status())
                .as("other users are not affected").isEqualTo(201);
    }
}
