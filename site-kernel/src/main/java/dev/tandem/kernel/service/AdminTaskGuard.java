package dev.tandem.kernel.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Admin tasks (rotating keys, promoting, fencing, switching a site over) change what a whole site
 * does, so the admin port asks for a bearer token before running one, even on loopback: a step
 * running on the same host reaches loopback too. Health checks and metrics stay open to monitoring.
 */
public final class AdminTaskGuard implements Filter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Predicate<String> accepts;
    private final String needs;

    /**
     * @param accepts whether a bearer token (without the "Bearer " prefix) may run tasks
     * @param needs   what the refusal says is needed, e.g. "an admin's API token"
     */
    public AdminTaskGuard(Predicate<String> accepts, String needs) {
        this.accepts = accepts;
        this.needs = needs;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain) throws IOException, ServletException {
        String header = ((HttpServletRequest) request).getHeader("Authorization");
        String token = header != null && header.startsWith("Bearer ") ? header.substring("Bearer ".length()).trim() : null;
        if (token != null && !token.isEmpty() && accepts.test(token)) {
            chain.doFilter(request, response);
            return;
        }
        HttpServletResponse http = (HttpServletResponse) response;
        http.setStatus(401);
        http.setContentType("application/json");
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", 401);
        body.put("error", "an admin task needs " + needs + " (Authorization: Bearer <token>)");
        body.put("where", "Authorization header");
        http.getOutputStream().write(JSON.writeValueAsBytes(body));
    }
}
