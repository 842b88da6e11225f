package dev.tandem.runtime.auth;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.kernel.db.Ids;
import dev.tandem.kernel.site.SiteGate;
import dev.tandem.runtime.refusal.Refusal;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/** All SQL about groups (roles) and their grants. */
public final class GroupRepository {
    private static final TypeReference<List<Grant>> GRANTS = new TypeReference<>() {};
    private static final String COLUMNS = "name, description, grants::text, created_at, updated_at";

    private final SiteGate gate;
    private final ObjectMapper mapper;

    public GroupRepository(SiteGate gate, ObjectMapper mapper) {
        this.gate = gate;
        this.mapper = mapper;
    }

    public List<Grant> grantsOf(Collection<String> roles) {
        if (roles.isEmpty()) {
            return List.of();
        }
        return gate.read(h -> h.createQuery("SELECT grants::text FROM tandem.groups WHERE name = ANY(:roles)")
                .bind("roles", roles.toArray(String[]::new))
                .mapTo(String.class).list())
                .stream().flatMap(text -> grants(text).stream()).toList();
    }

    public List<Group> list() {
        return gate.read(h -> h.createQuery("SELECT " + COLUMNS + " FROM tandem.groups ORDER BY name").map((rs, ctx) -> group(rs)).list());
    }

    public Optional<Group> find(String name) {
        return gate.read(h -> h.createQuery("SELECT " + COLUMNS + " FROM tandem.groups WHERE name = :name").bind("name", name)
                .map((rs, ctx) -> group(rs)).findOne());
    }

    public List<String> existing(Collection<String> names) {
        return gate.read(h -> h.createQuery("SELECT name FROM tandem.groups WHERE name = ANY(:names)")
                .bind("names", names.toArray(String[]::new)).mapTo(String.class).list());
    }

    public Group create(String name, String description, List<Grant> grants) {
        return gate.write(h -> {
            int rows = h.createUpdate("""
                            INSERT INTO tandem.groups (id, name, description, grants, created_at, updated_at)
                            VALUES (:id, :name, :description, CAST(:grants AS jsonb), now(), now()) ON CONFLICT (name) DO NOTHING""")
                    .bind("id", Ids.next()).bind("name", name).bind("description", description).bind("grants", write(grants))
                    .execute();
            if (rows == 0) {
                throw Refusal.conflict("group '" + name + "' already exists");
            }
            return h.createQuery("SELECT " + COLUMNS + " FROM tandem.groups WHERE name = :name").bind("name", name).map((rs, ctx) -> group(rs)).one();
        });
    }

    public Group update(String name, String description, List<Grant> grants) {
        return gate.write(h -> {
            int rows = h.createUpdate("""
                            UPDATE tandem.groups SET description = COALESCE(:description, description),
                                   grants = COALESCE(CAST(:grants AS jsonb), grants), updated_at = now() WHERE name = :name""")
                    .bind("name", name).bind("description", description).bind("grants", grants == null ? null : write(grants))
                    .execute();
            if (rows == 0) {
                throw Refusal.notFound("group '" + name + "'");
            }
            return h.createQuery("SELECT " + COLUMNS + " FROM tandem.groups WHERE name = :name").bind("name", name).map((rs, ctx) -> group(rs)).one();
        });
    }

    /** Refused while users hold the role, so no one silently loses access. */
    public void delete(String name) {
        gate.write(h -> {
            List<String> holders = h.createQuery("SELECT name FROM tandem.users WHERE :name = ANY(roles) ORDER BY name")
                    .bind("name", name).mapTo(String.class).list();
            if (!holders.isEmpty()) {
                throw Refusal.conflict("group '" + name + "' is held by " + holders + "; remove it from them first");
            }
            if (h.createUpdate("DELETE FROM tandem.groups WHERE name = :name").bind("name", name).execute() == 0) {
                throw Refusal.notFound("group '" + name + "'");
            }
            return null;
        });
    }

    private Group group(ResultSet rs) throws SQLException {
        return new Group(rs.getString(1), rs.getString(2), grants(rs.getString(3)), rs.getTimestamp(4).toInstant(), rs.getTimestamp(5).toInstant());
    }

    private List<Grant> grants(String text) {
        try {
            return mapper.readValue(text, GRANTS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String write(List<Grant> grants) {
        try {
            return mapper.writeValueAsString(grants);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
