package dev.tandem.runtime.auth;

/** A permission on a project, or on every project ({@code "*"}). */
public record Grant(String project, String permission) {
    public boolean allows(String target, Permission wanted) {
        return (project.equals("*") || project.equals(target)) && Permission.parse(permission).includes(wanted);
    }
}
