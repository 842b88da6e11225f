package dev.tandem.replicator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dropwizard.core.cli.ConfiguredCommand;
import io.dropwizard.core.server.DefaultServerFactory;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.jetty.HttpConnectorFactory;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;

/**
 * The operator's commands against this site's running replicator, found through its own
 * configuration file (admin port, application port, token):
 * {@code status}, {@code promote [--confirm]}, {@code switchover --to SITE}, {@code fence --reason TEXT}.
 */
public final class OperatorCommand extends ConfiguredCommand<ReplicatorConfiguration> {
    private static final ObjectMapper JSON = new ObjectMapper();

    public OperatorCommand(String name, String description) {
        super(name, description);
    }

    /** The replication token, read from the configuration when the command runs. */
    private String token;

    public static OperatorCommand status() {
        return new OperatorCommand("status", "Shows this site's role, epoch, lease, lag and recent decisions");
    }

    public static OperatorCommand promote() {
        return new OperatorCommand("promote", "Promotes this passive site by force (says what may be lost; --confirm to do it)");
    }

    public static OperatorCommand switchover() {
        return new OperatorCommand("switchover", "Hands this active site's role to a passive site, losing nothing (--to SITE)");
    }

    public static OperatorCommand divergence() {
        return new OperatorCommand("divergence", "Prints this site's last divergence report (what it committed that the active site never applied)");
    }

    public static OperatorCommand reseed() {
        return new OperatorCommand("reseed", "Passive site: replace its data with a copy of the active site. Fenced former active site: "
                + "write its divergence report, then copy the active site and follow it");
    }

    public static OperatorCommand fence() {
        return new OperatorCommand("fence", "Fences this site now: no write commits, schedules stop, runs are aborted (--reason TEXT)");
    }

    @Override
    public void configure(Subparser subparser) {
        super.configure(subparser);
        switch (getName()) {
            case "promote" -> subparser.addArgument("--confirm").action(net.sourceforge.argparse4j.impl.Arguments.storeTrue())
                    .help("promote even though the active site's last changes may not be here");
            case "switchover" -> {
                subparser.addArgument("--to").required(true).help("the passive site that becomes active");
                subparser.addArgument("--timeout").type(Integer.class).setDefault(60).help("seconds to wait for it to apply everything");
            }
            case "fence" -> subparser.addArgument("--reason").required(true).help("why, recorded with the fence");
            default -> { }
        }
    }

    @Override
    protected void run(Bootstrap<ReplicatorConfiguration> bootstrap, Namespace namespace, ReplicatorConfiguration config) throws Exception {
        token = config.replication.token; // admin tasks ask for it
        DefaultServerFactory server = (DefaultServerFactory) config.getServerFactory();
        String admin = base((HttpConnectorFactory) server.getAdminConnectors().get(0));
        String app = base((HttpConnectorFactory) server.getApplicationConnectors().get(0));
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3))
                .sslContext(dev.tandem.replicator.ReplicatorApplication.settings(config).peerTrust()).build();
        String output = switch (getName()) {
            case "status" -> dev.tandem.replicator.api.StatusText.describe(config.site.id, get(http, app + "/status", config.replication.token));
            case "promote" -> post(http, admin + "/tasks/promote" + (Boolean.TRUE.equals(namespace.getBoolean("confirm"))
                    ? "?confirm=" + config.site.id : ""), Duration.ofSeconds(60));
            case "switchover" -> post(http, admin + "/tasks/switchover?to=" + encode(namespace.getString("to")) + "&timeout="
                    + namespace.getInt("timeout"), Duration.ofSeconds(namespace.getInt("timeout") + 30L));
            case "fence" -> post(http, admin + "/tasks/fence?reason=" + encode(namespace.getString("reason")), Duration.ofSeconds(30));
            case "reseed" -> post(http, admin + "/tasks/reseed", Duration.ofSeconds(300));
            case "divergence" -> text(http, app + "/divergence?format=text", config.replication.token);
            default -> throw new IllegalArgumentException(getName());
        };
        System.out.println(output);
        if (output.startsWith("refused") || output.startsWith("not promoted") || output.startsWith("switchover aborted")
                || output.startsWith("no report")) {
            throw new IllegalStateException("(see above)");
        }
    }

    private static String base(HttpConnectorFactory connector) {
        String host = connector.getBindHost() == null || connector.getBindHost().isBlank() || connector.getBindHost().equals("0.0.0.0")
                ? "127.0.0.1" : connector.getBindHost();
        String scheme = connector instanceof io.dropwizard.jetty.HttpsConnectorFactory ? "https://" : "http://";
        return scheme + host + ":" + connector.getPort();
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private static JsonNode get(HttpClient http, String url, String token) throws IOException, InterruptedException {
        HttpResponse<String> response;
        try {
            response = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                    .header("Authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IOException("the replicator at " + url + " does not answer (" + e + "): is it running?", e);
        }
        if (response.statusCode() != 200) {
            throw new IOException("the replicator at " + url + " answered HTTP " + response.statusCode() + ": " + response.body());
        }
        return JSON.readTree(response.body());
    }

    private static String text(HttpClient http, String url, String token) throws IOException, InterruptedException {
        HttpResponse<String> response;
        try {
            response = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                    .header("Authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IOException("the replicator at " + url + " does not answer (" + e + "): is it running?", e);
        }
        return response.statusCode() == 200 ? response.body().stripTrailing() : "no report: " + response.body();
    }

    private String post(HttpClient http, String url, Duration timeout) throws IOException, InterruptedException {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(timeout).header("Authorization", "Bearer " + token)
                            .POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString()).body().trim();
        } catch (IOException e) {
            throw new IOException("the replicator's admin port at " + url + " does not answer (" + e + "): is it running on this host?", e);
        }
    }
}
