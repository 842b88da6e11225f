package dev.tandem.runtime.api;

/**
 * An error the caller can act on: an HTTP status, what is wrong, and where (a job index and
 * name, a YAML line, a field path). Rendered as a JSON body by {@link ApiExceptionMapper}.
 */
public class ApiException extends RuntimeException {
    private final int status;
    private final String where;

    public ApiException(int status, String message) {
        this(status, message, null);
    }

    public ApiException(int status, String message, String where) {
        super(message);
        this.status = status;
        this.where = where;
    }

    public int status() {
        return status;
    }

    public String where() {
        return where;
    }

    public static ApiException notFound(String what) {
        return new ApiException(404, what + " not found");
    }

    public static ApiException badRequest(String message, String where) {
        return new ApiException(400, message, where);
    }

    public static ApiException conflict(String message) {
        return new ApiException(409, message);
    }
}
