package dev.tandem.s3mock;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.env.Environment;

/**
 * Makes S3Mock answer only requests signed (AWS Signature Version 4, Authorization header) with
 * one access key and its secret, as a real S3 does: everything else gets 403. Added to S3Mock
 * with {@code --spring.main.sources=dev.tandem.s3mock.SignedRequestsOnly}, configured with
 * {@code --tandem.s3.accessKeyId=ID} and {@code --tandem.s3.secretKeyFile=/path} (a file readable
 * by its owner only). Without an access key id it lets everything through (S3Mock's own
 * behaviour, which the tests use).
 *
 * <p>The signature covers the method, path, query, the signed headers and the declared payload
 * hash; a signing time more than 15 minutes away is refused, so a captured request is not
 * replayable later.
 */
public final class SignedRequestsOnly implements Filter, EnvironmentAware {
    private static final Pattern AUTHORIZATION = Pattern.compile(
            "AWS4-HMAC-SHA256 Credential=([^/,\\s]+)/(\\d{8})/([^/]+)/([^/]+)/aws4_request,\\s*SignedHeaders=([^,\\s]+),\\s*Signature=([0-9a-f]{64})");
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final Duration SKEW = Duration.ofMinutes(15);

    private String accessKeyId;
    private byte[] secret;

    @Override
    public void setEnvironment(Environment environment) {
        accessKeyId = environment.getProperty("tandem.s3.accessKeyId", "");
        String secretFile = environment.getProperty("tandem.s3.secretKeyFile", "");
        if (!accessKeyId.isEmpty()) {
            try {
                secret = Files.readString(Path.of(secretFile), StandardCharsets.UTF_8).strip().getBytes(StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("tandem.s3.secretKeyFile: cannot read '" + secretFile + "': " + e.getMessage(), e);
            }
            if (secret.length == 0) {
                throw new IllegalArgumentException("tandem.s3.secretKeyFile: '" + secretFile + "' is empty");
            }
        }
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain) throws IOException, ServletException {
        if (accessKeyId.isEmpty()) {
            chain.doFilter(request, response);
            return;
        }
        HttpServletRequest http = (HttpServletRequest) request;
        String refusal = refusal(http);
        if (refusal != null) {
            HttpServletResponse out = (HttpServletResponse) response;
            out.setStatus(403);
            out.setContentType("application/xml");
            out.getWriter().write("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + (refusal.startsWith("signature")
                    ? "SignatureDoesNotMatch" : "AccessDenied") + "</Code><Message>" + refusal + "</Message></Error>");
            return;
        }
        chain.doFilter(request, response);
    }

    /** Why the request is refused, or null when it is signed with the key. */
    String refusal(HttpServletRequest request) {
        String authorization = request.getHeader("Authorization");
        if (authorization == null) {
            return "access denied: the request is not signed";
        }
        Matcher m = AUTHORIZATION.matcher(authorization.trim());
        if (!m.matches()) {
            return "access denied: only AWS Signature Version 4 in the Authorization header is accepted";
        }
        if (!MessageDigest.isEqual(m.group(1).getBytes(StandardCharsets.UTF_8), accessKeyId.getBytes(StandardCharsets.UTF_8))) {
            return "access denied: unknown access key";
        }
        String amzDate = request.getHeader("x-amz-date");
        String payloadHash = request.getHeader("x-amz-content-sha256");
        if (amzDate == null || payloadHash == null || !amzDate.startsWith(m.group(2))) {
            return "access denied: x-amz-date and x-amz-content-sha256 must be signed";
        }
        Instant signedAt;
        try {
            signedAt = Instant.from(AMZ_DATE.parse(amzDate));
        } catch (RuntimeException e) {
            return "access denied: x-amz-date is not a date";
        }
        if (Duration.between(signedAt, Instant.now()).abs().compareTo(SKEW) > 0) {
            return "access denied: signed more than 15 minutes away from now";
        }
        String signedHeaders = m.group(5);
        List<String> names = List.of(signedHeaders.split(";"));
        if (!names.contains("host") || !names.contains("x-amz-date") || !names.contains("x-amz-content-sha256")) {
            return "access denied: host, x-amz-date and x-amz-content-sha256 must be signed";
        }
        StringBuilder canonical = new StringBuilder();
        canonical.append(request.getMethod()).append('\n')
                .append(request.getRequestURI()).append('\n')
                .append(canonicalQuery(request.getQueryString())).append('\n');
        for (String name : names) {
            List<String> values = new ArrayList<>();
            for (String value : Collections.list(request.getHeaders(name))) {
                values.add(value.strip().replaceAll("\\s+", " "));
            }
            canonical.append(name).append(':').append(String.join(",", values)).append('\n');
        }
        canonical.append('\n').append(signedHeaders).append('\n').append(payloadHash);
        String scope = m.group(2) + "/" + m.group(3) + "/" + m.group(4) + "/aws4_request";
        String toSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex(sha256(canonical.toString()));
        byte[] key = hmac(("AWS4" + new String(secret, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8), m.group(2));
        key = hmac(key, m.group(3));
        key = hmac(key, m.group(4));
        key = hmac(key, "aws4_request");
        byte[] expected = hex(hmac(key, toSign)).getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(expected, m.group(6).getBytes(StandardCharsets.US_ASCII)) ? null
                : "signature does not match: the secret key is wrong or the request was changed";
    }

    /** The query as SigV4 canonicalises it: each name and value URI-encoded, sorted by name, then value. */
    static String canonicalQuery(String raw) {
        if (raw == null || raw.isEmpty()) {
            return "";
        }
        List<String[]> pairs = new ArrayList<>();
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int equals = pair.indexOf('=');
            String name = URLDecoder.decode(equals < 0 ? pair : pair.substring(0, equals), StandardCharsets.UTF_8);
            String value = equals < 0 ? "" : URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8);
            pairs.add(new String[] {encode(name), encode(value)});
        }
        pairs.sort((a, b) -> a[0].equals(b[0]) ? a[1].compareTo(b[1]) : a[0].compareTo(b[0]));
        List<String> out = new ArrayList<>();
        for (String[] p : pairs) {
            out.add(p[0] + "=" + p[1]);
        }
        return String.join("&", out);
    }

    /** RFC 3986 encoding: everything but unreserved characters, spaces as %20. */
    private static String encode(String text) {
        StringBuilder out = new StringBuilder();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~') {
                out.append(c);
            } else {
                out.append('%').append(String.format(Locale.ROOT, "%02X", b & 0xff));
            }
        }
        return out.toString();
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] hmac(byte[] key, String text) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(text.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
