package dev.tandem.runtime.api;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Refuses a request body larger than its limit before anything parses it: by its declared
 * length at once, and, for a body sent without one (chunked), as soon as the bytes read pass the
 * limit. Every request, authenticated or not, reaches this filter first, so no body can make the
 * runtime hold more than the limit in memory. Job imports have their own, larger limit.
 */
public final class RequestSizeLimit implements Filter {
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
    private final long maxBytes;
    private final long maxImportBytes;

    public RequestSizeLimit(long maxBytes, long maxImportBytes) {
        this.maxBytes = maxBytes;
        this.maxImportBytes = maxImportBytes;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain) throws IOException, ServletException {
        HttpServletRequest http = (HttpServletRequest) request;
        boolean isImport = http.getRequestURI().endsWith("/jobs/import");
        long limit = isImport ? maxImportBytes : maxBytes;
        String setting = isImport ? "api.maxImportSize" : "api.maxRequestSize";
        long declared = http.getContentLengthLong();
        if (declared > limit) {
            refuse((HttpServletResponse) response, declared + " bytes", limit, setting);
            return;
        }
        chain.doFilter(new HttpServletRequestWrapper(http) {
            private ServletInputStream bounded;

            @Override
            public ServletInputStream getInputStream() throws IOException {
                if (bounded == null) {
                    bounded = new BoundedInput(super.getInputStream(), limit, setting);
                }
                return bounded;
            }
        }, response);
    }

    static String message(String size, long limit, String setting) {
        return "the request body (" + size + ") is larger than the limit of " + limit + " bytes (" + setting + ")";
    }

    private static void refuse(HttpServletResponse response, String size, long limit, String setting) throws IOException {
        response.setStatus(413);
        response.setContentType("application/json");
        response.setHeader("Connection", "close");
        response.getOutputStream().write(JSON.writeValueAsBytes(ErrorBody.of(413, message(size, limit, setting), "body")));
    }

    /**
     * An I/O failure of the body, so parsers pass it on unwrapped as they do any failed read;
     * {@link ApiExceptionMapper} answers it with 413.
     */
    public static final class BodyTooLargeException extends IOException {
        BodyTooLargeException(String message) {
            super(message);
        }
    }

    /** Counts what the application reads; one byte past the limit ends the request with 413. */
    private static final class BoundedInput extends ServletInputStream {
        private final ServletInputStream in;
        private final long limit;
        private final String setting;
        private long read;

        BoundedInput(ServletInputStream in, long limit, String setting) {
            this.in = in;
            this.limit = limit;
            this.setting = setting;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                count(1);
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = in.read(buffer, offset, length);
            if (n > 0) {
                count(n);
            }
            return n;
        }

        private void count(int n) throws BodyTooLargeException {
            read += n;
            if (read > limit) {
                throw new BodyTooLargeException(message("more than " + limit + " bytes", limit, setting));
            }
        }

        @Override
        public boolean isFinished() {
            return in.isFinished();
        }

        @Override
        public boolean isReady() {
            return in.isReady();
        }

        @Override
        public void setReadListener(ReadListener listener) {
            in.setReadListener(listener);
        }
    }
}
