package dev.tandem.kernel.site;

/** What a site may do. Only an {@code ACTIVE} site accepts writes, fires schedules and runs jobs. */
public enum SiteRole {
    ACTIVE, PASSIVE, FENCED;

    public static SiteRole parse(String value) {
        return valueOf(value.toUpperCase(java.util.Locale.ROOT));
    }

    public String sql() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
