package dev.tandem.runtime.api;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.core.NewCookie;

/**
 * Every API response names the member that served it in the {@code TANDEM_ROUTE} cookie, so a
 * load balancer can keep a client's session on one member (sample nginx and HAProxy configs in
 * configs/).
 */
public final class RouteCookieFilter implements ContainerResponseFilter {
    public static final String COOKIE = "TANDEM_ROUTE";
    private final NewCookie cookie;

    public RouteCookieFilter(String memberId) {
        this.cookie = new NewCookie.Builder(COOKIE).value(memberId).path("/").httpOnly(true).sameSite(NewCookie.SameSite.LAX).build();
    }

    @Override
    public void filter(ContainerRequestContext request, ContainerResponseContext response) {
        if (request.getUriInfo().getPath().startsWith("api/")) {
            response.getHeaders().add("Set-Cookie", cookie);
        }
    }
}
