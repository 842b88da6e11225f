package dev.tandem.replicator.status;

import com.google.common.base.Throwables;

/** Turns an exception into the words an operator reads in a decision or a status. */
public final class Causes {
    private Causes() {}

    /** The innermost cause's type and message, e.g. {@code TimeoutException: Timed out waiting for a node}. */
    public static String rootMessage(Throwable e) {
        Throwable root = Throwables.getRootCause(e);
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }

    /** The exception's message, followed by its innermost cause's type and message when that is another exception. */
    public static String withRoot(Throwable e) {
        if (e == null) {
            return "unknown cause";
        }
        Throwable root = Throwables.getRootCause(e);
        return root == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + rootMessage(root) + ")";
    }
}
