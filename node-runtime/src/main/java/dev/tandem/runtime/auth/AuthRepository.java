package dev.tandem.runtime.auth;

import dev.tandem.runtime.refusal.Refusal;
import dev.tandem.kernel.db.Ids;
import dev.tandem.kernel.site.SiteGate;
import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.jdbi.v3.core.Handle;

/** All SQL about users and API tokens. Writes go through the {@link SiteGate}. */
public final class AuthRepository {
    private static final String TOKEN_COLUMNS =
            "t.id, u.name, t.roles, t.description, t.created_at, t.expires_at";

    private final SiteGate gate;

    public AuthRepository(SiteGate gate) {
        this.gate = gate;
    }

    /** The caller behind a token, if the token exists and has not expired (database clock). */
    public Optional<Caller> findCaller(String tokenHash) {
        return gate.read(h -> h.createQuery("""
                        SELECT u.id, u.name, t.id, t.roles, u.roles FROM tandem.api_tokens t
                        JOIN tandem.users u ON u.id = t.user_id
                        WHERE t.token_hash = :hash AND (t.expires_at IS NULL OR t.expires_at > now())""")
                .bind("hash", tokenHash)
                .map((rs, ctx) -> {
                    // A token never carries more than its user holds now: taking a role from a user takes it from the tokens.
                    Set<String> roles = roles(rs.getArray(4));
                    roles.retainAll(roles(rs.getArray(5)));
                    return new Caller(rs.getObject(1, UUID.class), rs.getString(2), rs.getObject(3, UUID.class), roles);
                })
                .findOne());
    }

    public Optional<UserRecord> findUser(String name) {
        return gate.read(h -> h.createQuery("SELECT id, name, password_hash, roles FROM tandem.users WHERE name = :name")
                .bind("name", name)
                .map((rs, ctx) -> new UserRecord(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3), roles(rs.getArray(4))))
                .findOne());
    }

    public List<UserRecord> listUsers() {
        return gate.read(h -> h.createQuery("SELECT id, name, password_hash, roles FROM tandem.users ORDER BY name")
                .map((rs, ctx) -> new UserRecord(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3), roles(rs.getArray(4))))
                .list());
    }

    public UserRecord createUser(String name, String passwordHash, Set<String> roles) {
        return gate.write(h -> {
            int rows = h.createUpdate("""
                            INSERT INTO tandem.users (id, name, password_hash, roles, created_at)
                            VALUES (:id, :name, :hash, :roles, now()) ON CONFLICT (name) DO NOTHING""")
                    .bind("id", Ids.next()).bind("name", name).bind("hash", passwordHash).bind("roles", roles.toArray(String[]::new))
                    .execute();
            if (rows == 0) {
                throw Refusal.conflict("user '" + name + "' already exists");
            }
            return user(h, name).orElseThrow();
        });
    }

    /** Changes what is given (null leaves it); refuses to leave the site without any admin. */
    public UserRecord updateUser(String name, String passwordHash, Set<String> roles) {
        return gate.write(h -> {
            int rows = h.createUpdate("""
                            UPDATE tandem.users SET password_hash = COALESCE(:hash, password_hash),
                                   roles = COALESCE(:roles, roles) WHERE name = :name""")
                    .bind("name", name).bind("hash", passwordHash).bind("roles", roles == null ? null : roles.toArray(String[]::new))
                    .execute();
            if (rows == 0) {
                throw Refusal.notFound("user '" + name + "'");
            }
            requireAnAdmin(h);
            return user(h, name).orElseThrow();
        });
    }

    public void deleteUser(String name) {
        gate.write(h -> {
            if (h.createUpdate("DELETE FROM tandem.users WHERE name = :name").bind("name", name).execute() == 0) {
                throw Refusal.notFound("user '" + name + "'");
            }
            requireAnAdmin(h);
            return null;
        });
    }

    private static void requireAnAdmin(Handle h) {
        long admins = h.createQuery("SELECT count(*) FROM tandem.users WHERE 'admin' = ANY(roles)").mapTo(Long.class).one();
        if (admins == 0) {
            throw Refusal.conflict("this would leave no user with the role 'admin'");
        }
    }

    private static Optional<UserRecord> user(Handle h, String name) {
        return h.createQuery("SELECT id, name, password_hash, roles FROM tandem.users WHERE name = :name").bind("name", name)
                .map((rs, ctx) -> new UserRecord(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3), roles(rs.getArray(4))))
                .findOne();
    }

    /** Creates the user if missing, keeping an existing one as it is. Returns its id. */
    public UUID ensureUser(String name, String passwordHash, Set<String> roles) {
        return gate.write(h -> {
            h.createUpdate("""
                            INSERT INTO tandem.users (id, name, password_hash, roles, created_at)
                            VALUES (:id, :name, :hash, :roles, now()) ON CONFLICT (name) DO NOTHING""")
                    .bind("id", Ids.next())
                    .bind("name", name)
                    .bind("hash", passwordHash)
                    .bind("roles", roles.toArray(String[]::new))
                    .execute();
            return h.createQuery("SELECT id FROM tandem.users WHERE name = :name").bind("name", name).mapTo(UUID.class).one();
        });
    }

    /** Registers a token by its hash unless one with that hash exists. */
    public void ensureToken(UUID userId, String tokenHash, Set<String> roles, String description) {
        gate.write(h -> h.createUpdate("""
                        INSERT INTO tandem.api_tokens (id, user_id, token_hash, roles, description, created_at)
                        VALUES (:id, :user, :hash, :roles, :description, now()) ON CONFLICT (token_hash) DO NOTHING""")
                .bind("id", Ids.next())
                .bind("user", userId)
                .bind("hash", tokenHash)
                .bind("roles", roles.toArray(String[]::new))
                .bind("description", description)
                .execute());
    }

    public TokenInfo createToken(UUID userId, String tokenHash, Set<String> roles, String description, Instant expiresAt) {
        UUID id = Ids.next();
        return gate.write(h -> {
            h.createUpdate("""
                            INSERT INTO tandem.api_tokens (id, user_id, token_hash, roles, description, created_at, expires_at)
                            VALUES (:id, :user, :hash, :roles, :description, now(), :expires)""")
                    .bind("id", id)
                    .bind("user", userId)
                    .bind("hash", tokenHash)
                    .bind("roles", roles.toArray(String[]::new))
                    .bind("description", description)
                    .bind("expires", expiresAt == null ? null : Timestamp.from(expiresAt))
                    .execute();
            return token(h, id).orElseThrow();
        });
    }

    public Optional<TokenInfo> findToken(UUID id) {
        return gate.read(h -> token(h, id));
    }

    public List<TokenInfo> listTokens(String userName) {
        return gate.read(h -> h.createQuery("SELECT " + TOKEN_COLUMNS + """
                         FROM tandem.api_tokens t JOIN tandem.users u ON u.id = t.user_id
                        WHERE (:user IS NULL OR u.name = :user) ORDER BY t.created_at""")
                .bind("user", userName)
                .map((rs, ctx) -> tokenInfo(rs))
                .list());
    }

    public boolean deleteToken(UUID id) {
        return gate.write(h -> h.createUpdate("DELETE FROM tandem.api_tokens WHERE id = :id").bind("id", id).execute() == 1);
    }

    private static Optional<TokenInfo> token(Handle h, UUID id) {
        return h.createQuery("SELECT " + TOKEN_COLUMNS + " FROM tandem.api_tokens t JOIN tandem.users u ON u.id = t.user_id WHERE t.id = :id")
                .bind("id", id)
                .map((rs, ctx) -> tokenInfo(rs))
                .findOne();
    }

    private static TokenInfo tokenInfo(ResultSet rs) throws SQLException {
        Timestamp expires = rs.getTimestamp(6);
        return new TokenInfo(rs.getObject(1, UUID.class), rs.getString(2), roles(rs.getArray(3)), rs.getString(4),
                rs.getTimestamp(5).toInstant(), expires == null ? null : expires.toInstant());
    }

    private static Set<String> roles(Array array) throws SQLException {
        return array == null ? new LinkedHashSet<>() : new LinkedHashSet<>(Arrays.asList((String[]) array.getArray()));
    }
}
