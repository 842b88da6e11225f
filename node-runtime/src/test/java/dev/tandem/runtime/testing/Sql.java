package dev.tandem.runtime.testing;

import dev.tandem.kernel.testing.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Plain SQL on a test database (user postgres), with positional arguments. */
public final class Sql {
    private Sql() {
    }

    /** The first column of every row, as text. */
    public static List<String> rows(String url, String sql, Object... args) throws SQLException {
        try (Connection c = TestPostgres.connect(url); PreparedStatement s = prepare(c, sql, args); ResultSet rs = s.executeQuery()) {
            List<String> out = new ArrayList<>();
            while (rs.next()) {
                out.add(rs.getString(1));
            }
            return out;
        }
    }

    /** The first column of the first row as an instant, or null. */
    public static Instant instant(String url, String sql, Object... args) throws SQLException {
        try (Connection c = TestPostgres.connect(url); PreparedStatement s = prepare(c, sql, args); ResultSet rs = s.executeQuery()) {
            rs.next();
            Timestamp t = rs.getTimestamp(1);
            return t == null ? null : t.toInstant();
        }
    }

    public static void exec(String url, String sql, Object... args) throws SQLException {
        try (Connection c = TestPostgres.connect(url); PreparedStatement s = prepare(c, sql, args)) {
            s.execute();
        }
    }

    private static PreparedStatement prepare(Connection c, String sql, Object... args) throws SQLException {
        PreparedStatement s = c.prepareStatement(sql);
        for (int i = 0; i < args.length; i++) {
            s.setObject(i + 1, args[i]);
        }
        return s;
    }
}
