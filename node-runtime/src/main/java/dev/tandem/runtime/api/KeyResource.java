package dev.tandem.runtime.api;

import dev.tandem.runtime.refusal.Refusal;
import dev.tandem.runtime.auth.AccessControl;
import dev.tandem.runtime.auth.Caller;
import dev.tandem.runtime.auth.Permission;
import dev.tandem.runtime.keys.KeyMeta;
import dev.tandem.runtime.keys.KeyStore;
import dev.tandem.runtime.keys.KeyType;
import io.dropwizard.auth.Auth;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;

/**
 * Rundeck's key-storage API: {@code /api/v1/storage/keys/...}. The content type says what a key
 * is. Password and private-key values are accepted but never returned.
 */
@Path("/api/v1/storage")
public final class KeyResource {
    private final KeyStore keys;
    private final AccessControl access;

    public KeyResource(KeyStore keys, AccessControl access) {
        this.keys = keys;
        this.access = access;
    }

    @POST
    @Path("{path: keys(/.+)?}")
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public Response create(@Auth Caller caller, @PathParam("path") String path, @HeaderParam(HttpHeaders.CONTENT_TYPE) String type,
                           InputStream body) throws IOException {
        authorise(caller, KeyStore.checkPath(path));
        KeyMeta meta = keys.create(path, typeOf(type), read(body), caller.userName());
        return Response.status(201).entity(meta).build();
    }

    @PUT
    @Path("{path: keys(/.+)?}")
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public KeyMeta replace(@Auth Caller caller, @PathParam("path") String path, @HeaderParam(HttpHeaders.CONTENT_TYPE) String type,
                           InputStream body) throws IOException {
        authorise(caller, KeyStore.checkPath(path));
        return keys.replace(path, typeOf(type), read(body), caller.userName());
    }

    /** A key's metadata, a folder's listing, or (Accept: application/pgp-keys) a public key's content. */
    @GET
    @Path("{path: keys(/.+)?}")
    @Produces({MediaType.APPLICATION_JSON, "application/pgp-keys"})
    public Response get(@Auth Caller caller, @PathParam("path") String path, @HeaderParam(HttpHeaders.ACCEPT) String accept) {
        authorise(caller, path);
        if (accept != null && accept.contains("application/pgp-keys")) {
            return Response.ok(keys.readPublic(KeyStore.checkPath(path)), "application/pgp-keys").build();
        }
        if (!path.equals("keys")) {
            KeyStore.checkPath(path);
            var meta = keys.meta(path);
            if (meta.isPresent()) {
                return Response.ok(meta.get(), MediaType.APPLICATION_JSON_TYPE).build();
            }
        }
        List<KeyMeta> inside = keys.list(path);
        if (inside.isEmpty() && !path.equals("keys")) {
            throw Refusal.notFound("key or folder " + path);
        }
        return Response.ok(Map.of("path", path, "type", "directory", "resources", inside), MediaType.APPLICATION_JSON_TYPE).build();
    }

    @DELETE
    @Path("{path: keys(/.+)?}")
    public Response delete(@Auth Caller caller, @PathParam("path") String path) {
        authorise(caller, KeyStore.checkPath(path));
        if (!keys.delete(path, caller.userName())) {
            throw Refusal.notFound("key " + path);
        }
        return Response.noContent().build();
    }

    /** Admins manage every key; a project's admins manage the keys under keys/project/{name}/. */
    private void authorise(Caller caller, String path) {
        String[] parts = path.split("/");
        if (parts.length >= 3 && parts[1].equals("project")) {
            access.require(caller, parts[2], Permission.ADMIN);
        } else {
            access.requireAdmin(caller, "manage keys outside keys/project/<name>/");
        }
    }

    private static KeyType typeOf(String contentType) {
        return KeyType.fromContentType(contentType).orElseThrow(() -> new Refusal(Refusal.Kind.UNSUPPORTED_FORMAT,
                "a key's Content-Type says what it is: application/x-rundeck-data-password, application/octet-stream (private key) or application/pgp-keys (public key)",
                "Content-Type"));
    }

    private static byte[] read(InputStream body) throws IOException {
        byte[] bytes = body.readNBytes(KeyStore.MAX_KEY_BYTES + 1);
        if (bytes.length > KeyStore.MAX_KEY_BYTES) {
            throw new Refusal(Refusal.Kind.TOO_LARGE, "a key value is at most " + KeyStore.MAX_KEY_BYTES + " bytes", "body");
        }
        return bytes;
    }
}
