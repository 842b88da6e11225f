package dev.tandem.runtime.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** Every error response has this shape: what went wrong, where, and details when there are several. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ErrorBody(int status, String error, String where, List<Problem> problems, String activeSite) {

    public static ErrorBody of(int status, String error, String where) {
        return new ErrorBody(status, error, where, null, null);
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Problem(String error, String where) {}
}
