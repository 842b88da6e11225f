package dev.tandem.replicator;

/** Turns an exception into the words an operator reads in a decision or a status. */
public final class Causes {
    private Causes() {}

    /** The innermost cause's type and message, e.g. {@code TimeoutException: Timed out waiting for a node}. */
    public static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }
}
