package dev.tandem.runtime.api;

import java.util.UUID;

/** Absolute links built on the member's public URL (the one behind any load balancer). */
public record Links(String baseUrl) {
    public Links {
        baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    }

    public String project(String name) {
        return baseUrl + "/api/v1/projects/" + name;
    }

    public String job(UUID id) {
        return baseUrl + "/api/v1/jobs/" + id;
    }

    public String execution(UUID id) {
        return baseUrl + "/api/v1/executions/" + id;
    }

    public String output(UUID id) {
        return execution(id) + "/output";
    }
}
