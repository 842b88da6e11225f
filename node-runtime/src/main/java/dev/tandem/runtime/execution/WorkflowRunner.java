package dev.tandem.runtime.execution;

import dev.tandem.runtime.refusal.Refusal;
import dev.tandem.runtime.job.JobDefinition;
import dev.tandem.runtime.job.JobRepository;
import dev.tandem.runtime.job.Step;
import dev.tandem.runtime.job.StoredJob;
import dev.tandem.runtime.logs.LogEntry;
import dev.tandem.runtime.logs.LogWriter;
import dev.tandem.runtime.nodes.Node;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import dev.tandem.runtime.text.Expansion;
import dev.tandem.runtime.text.Arguments;
/**
 * Runs a workflow with Rundeck's result semantics: a failed step stops the workflow unless
 * {@code keepgoing}; its error handler runs first, and a successful handler recovers the step
 * when {@code keepgoing} or the handler's {@code keepgoingOnSuccess} says so. A {@code jobref}
 * is a workflow step: it runs once, the referenced job's workflow inline with its own options
 * (and its own nodes, when it has a node filter).
 *
 * <p>Node steps (exec, script, scriptfile) run on the runtime's own host, or, when the job has a
 * node filter, on every node it selects, in rank order, {@code threadcount} nodes at once:
 * {@code node-first} runs each run of consecutive node steps on one node before the next node;
 * {@code step-first} runs each step on every node before the next step. When a node fails, the
 * other nodes go on only with {@code nodefilters.dispatch.keepgoing}; the workflow's
 * {@code keepgoing} decides whether the next steps run on a node whose step failed.
 */
final class WorkflowRunner {
    private static final int MAX_JOBREF_DEPTH = 16;

    /** What one run of a workflow needs besides the workflow itself; {@code node} is where node steps run now. */
    /** {@code principal}: the user whose grants a job reference into another project needs ({@link JobRefGuard}). */
    record Context(RunningExecution execution, LogWriter log, Node host, Node node, String project, Path workDir,
                   SecretMasker masker, LogLevel level, Map<String, String> jobEnvironment, SshNodeRunner.Sessions ssh, String principal) {
        Context on(Node target) {
            return new Context(execution, log, host, target, project, workDir, masker, level, jobEnvironment, ssh, principal);
        }

        String nodeName() {
            return node.name();
        }

        boolean local() {
            return node.name().equals(host.name());
        }
    }

    /** Rundeck's log levels; the job's {@code loglevel} decides which of Tandem's own messages are written. */
    enum LogLevel {
        ERROR, WARN, NORMAL, VERBOSE, DEBUG;

        static LogLevel ofJob(String loglevel) {
            return switch (loglevel) {
                case "DEBUG" -> DEBUG;
                case "VERBOSE" -> VERBOSE;
                case "WARN" -> WARN;
                case "ERROR" -> ERROR;
                default -> NORMAL;
            };
        }
    }

    private final LocalProcessRunner processes;
    private final SshNodeRunner ssh;
    private final ProjectNodes projectNodes;
    private final ExecutorService nodeThreads;
    private final int maxNodeThreads;
    private final JobRepository jobs;
    private final OptionValues optionValues;
    private final JobRefGuard refGuard;
    private final ExecutionSettings.LocalSteps localSteps;
    private final Clock clock;

    WorkflowRunner(LocalProcessRunner processes, SshNodeRunner ssh, ProjectNodes projectNodes, ExecutorService nodeThreads,
                   int maxNodeThreads, JobRepository jobs, OptionValues optionValues, JobRefGuard refGuard,
                   ExecutionSettings.LocalSteps localSteps, Clock clock) {
        this.localSteps = localSteps;
        this.refGuard = refGuard;
        this.maxNodeThreads = maxNodeThreads;
        this.processes = processes;
        this.ssh = ssh;
        this.projectNodes = projectNodes;
        this.nodeThreads = nodeThreads;
        this.jobs = jobs;
        this.optionValues = optionValues;
        this.clock = clock;
    }

    /** One step of the workflow and its label ({@code 2}, or {@code 3/1} inside a referenced job). */
    private record Numbered(Step step, String label) {}

    /** Runs every step; returns the workflow's result. */
    StepResult run(JobDefinition job, Map<String, String> options, Context ctx, List<String> callStack, String stepPrefix) {
        return run(job, options, ctx, callStack, stepPrefix, null);
    }

    /** With {@code onNode}, the node steps run on that node only, whatever the job's filter (a jobref with nodeStep). */
    private StepResult run(JobDefinition job, Map<String, String> options, Context ctx, List<String> callStack, String stepPrefix, Node onNode) {
        NodePlan plan;
        if (onNode != null) {
            plan = new NodePlan(List.of(onNode), 1, false, false, null);
        } else if (job.dispatched()) {
            try {
                plan = plan(job, options, ctx);
            } catch (IllegalArgumentException e) {
                return StepResult.failed(e.getMessage());
            }
            if (plan.nodes().isEmpty()) {
                String message = "no node matches the filter '" + plan.filter() + "'";
                if (plan.successOnEmpty()) {
                    note(ctx, "", LogLevel.NORMAL, message + "; successOnEmptyNodeFilter says that is a success");
                    return StepResult.OK;
                }
                return StepResult.failed(message);
            }
        } else {
            plan = NodePlan.local(ctx.host());
        }
        boolean stepFirst = "step-first".equals(job.strategy());
        List<Step> steps = job.steps();
        String firstFailure = null;
        int i = 0;
        while (i < steps.size()) {
            if (ctx.execution().stopping()) {
                return StepResult.failed(ctx.execution().stopRequest().reason());
            }
            StepResult result;
            if (workflowStep(steps.get(i))) {
                Numbered one = new Numbered(steps.get(i), stepPrefix + (i + 1));
                result = runWithHandler(one, job, options, ctx.on(ctx.host()), callStack);
                if (!result.success()) {
                    result = StepResult.failed("step " + one.label() + " failed: " + result.reason());
                    note(ctx, one.label(), LogLevel.ERROR, result.reason());
                }
                i++;
            } else {
                List<Numbered> segment = new ArrayList<>();
                while (i < steps.size() && !workflowStep(steps.get(i))) {
                    segment.add(new Numbered(steps.get(i), stepPrefix + (i + 1)));
                    i++;
                }
                result = stepFirst ? stepFirst(segment, job, options, ctx, callStack, plan)
                        : onNodes(plan, ctx, node -> sequence(segment, job, options, ctx.on(node), callStack));
            }
            if (!result.success()) {
                if (firstFailure == null) {
                    firstFailure = result.reason();
                }
                if (!job.keepgoing()) {
                    return StepResult.failed(firstFailure);
                }
            }
        }
        return firstFailure == null ? StepResult.OK : StepResult.failed(firstFailure);
    }

    /** A jobref without nodeStep runs once for the workflow, not per node. */
    private static boolean workflowStep(Step step) {
        return step instanceof Step.JobRef ref && !ref.nodeStep();
    }

    private NodePlan plan(JobDefinition job, Map<String, String> options, Context ctx) {
        ProjectNodes.Resolved resolved = projectNodes.resolve(ctx.project());
        for (int i = 0; i < resolved.sources().size(); i++) {
            if (!resolved.sources().get(i).healthy()) {
                // Which source and why is for those who may configure sources (GET /projects/{p}/nodes), not for every log reader.
                note(ctx, "", LogLevel.WARN, "node source #" + (i + 1) + " of project " + ctx.project()
                        + " is failing; using the last nodes it served (its status: GET /api/v1/projects/" + ctx.project() + "/nodes)");
            }
        }
        NodePlan plan = NodePlan.of(job.nodes(), options, resolved.nodes(), maxNodeThreads);
        note(ctx, "", LogLevel.NORMAL, "nodes matching '" + plan.filter() + "': " + plan.nodes().size()
                + (plan.nodes().isEmpty() ? "" : " (" + String.join(", ", plan.nodes().stream().map(Node::name).toList()) + ")")
                + "; " + job.strategy() + ", " + plan.threads() + " at a time");
        return plan;
    }

    /** Node-first: the segment's steps one after another on one node. */
    private StepResult sequence(List<Numbered> segment, JobDefinition job, Map<String, String> options, Context ctx, List<String> callStack) {
        String firstFailure = null;
        for (Numbered one : segment) {
            if (ctx.execution().stopping()) {
                return StepResult.failed(ctx.execution().stopRequest().reason());
            }
            StepResult result = runWithHandler(one, job, options, ctx, callStack);
            if (!result.success()) {
                String reason = "step " + one.label() + " failed: " + result.reason();
                note(ctx, one.label(), LogLevel.ERROR, reason);
                firstFailure = firstFailure == null ? reason : firstFailure;
                if (!job.keepgoing()) {
                    break;
                }
            }
        }
        return firstFailure == null ? StepResult.OK : StepResult.failed(firstFailure);
    }

    /** Step-first: each step on every node before the next step. */
    private StepResult stepFirst(List<Numbered> segment, JobDefinition job, Map<String, String> options, Context ctx,
                                 List<String> callStack, NodePlan plan) {
        String firstFailure = null;
        for (Numbered one : segment) {
            if (ctx.execution().stopping()) {
                return StepResult.failed(ctx.execution().stopRequest().reason());
            }
            StepResult result = onNodes(plan, ctx, node -> {
                StepResult r = runWithHandler(one, job, options, ctx.on(node), callStack);
                if (r.success()) {
                    return r;
                }
                StepResult failed = StepResult.failed("step " + one.label() + " failed: " + r.reason());
                note(ctx.on(node), one.label(), LogLevel.ERROR, failed.reason());
                return failed;
            });
            if (!result.success()) {
                firstFailure = firstFailure == null ? result.reason() : firstFailure;
                if (!job.keepgoing()) {
                    break;
                }
            }
        }
        return firstFailure == null ? StepResult.OK : StepResult.failed(firstFailure);
    }

    /**
     * Runs {@code work} on every node of the plan, {@code threads} at a time, in rank order. A
     * failed node stops the start of further nodes unless the plan keeps going. The result names
     * each failed node and its reason; with only the host (no filter) it is the host's result.
     */
    private StepResult onNodes(NodePlan plan, Context ctx, Function<Node, StepResult> work) {
        List<Node> nodes = plan.nodes();
        StepResult[] results = new StepResult[nodes.size()];
        AtomicBoolean halted = new AtomicBoolean();
        AtomicInteger next = new AtomicInteger();
        Runnable worker = () -> {
            int index;
            while (!halted.get() && !ctx.execution().stopping() && (index = next.getAndIncrement()) < nodes.size()) {
                StepResult result;
                try {
                    result = work.apply(nodes.get(index));
                } catch (RuntimeException e) {
                    result = StepResult.failed("internal error on node " + nodes.get(index).name() + ": " + e);
                }
                results[index] = result;
                if (!result.success() && !plan.keepgoing()) {
                    halted.set(true);
                }
            }
        };
        int threads = Math.min(plan.threads(), nodes.size());
        if (threads <= 1) {
            worker.run();
        } else {
            List<Future<?>> running = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                running.add(nodeThreads.submit(worker));
            }
            for (Future<?> future : running) {
                try {
                    future.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    halted.set(true);
                    running.forEach(f -> f.cancel(true));
                    return StepResult.failed("interrupted while waiting for the nodes");
                } catch (ExecutionException e) {
                    return StepResult.failed("internal error: " + e.getCause());
                }
            }
        }
        if (nodes.size() == 1 && nodes.get(0).name().equals(ctx.host().name()) && results[0] != null && plan.filter() == null) {
            return results[0];
        }
        List<String> failures = new ArrayList<>();
        List<String> notRun = new ArrayList<>();
        for (int n = 0; n < nodes.size(); n++) {
            if (results[n] == null) {
                notRun.add(nodes.get(n).name());
            } else if (!results[n].success()) {
                failures.add(nodes.get(n).name() + " (" + results[n].reason() + ")");
            }
        }
        if (ctx.execution().stopping()) {
            return StepResult.failed(ctx.execution().stopRequest().reason());
        }
        if (failures.isEmpty()) {
            return StepResult.OK;
        }
        return StepResult.failed("failed on " + failures.size() + " of " + nodes.size() + " node" + (nodes.size() == 1 ? "" : "s")
                + ": " + String.join("; ", failures)
                + (notRun.isEmpty() ? "" : "; not run (dispatch keepgoing is false) on " + String.join(", ", notRun)));
    }

    /** A step, then its error handler if it failed; the handler's success recovers the step as Rundeck says. */
    private StepResult runWithHandler(Numbered one, JobDefinition job, Map<String, String> options, Context ctx, List<String> callStack) {
        Step step = one.step();
        StepResult result = runStep(step, options, ctx, callStack, one.label());
        if (!result.success() && step.errorHandler().isPresent() && !ctx.execution().stopping()) {
            Step handler = step.errorHandler().get();
            note(ctx, one.label(), LogLevel.WARN, "step " + one.label() + " failed (" + result.reason() + "); running its error handler");
            StepResult handled = runStep(handler, withResult(options, result), ctx, callStack, one.label() + ":errorhandler");
            if (handled.success() && (job.keepgoing() || handler.keepgoingOnSuccess())) {
                note(ctx, one.label(), LogLevel.NORMAL, "error handler of step " + one.label() + " succeeded; the step counts as recovered");
                return StepResult.OK;
            }
            if (!handled.success()) {
                return StepResult.failed(result.reason() + "; its error handler failed too: " + handled.reason());
            }
        }
        return result;
    }

    private StepResult runStep(Step step, Map<String, String> options, Context ctx, List<String> callStack, String label) {
        try {
            note(ctx, label, LogLevel.VERBOSE, "step " + label + (ctx.local() ? "" : " on node " + ctx.nodeName()) + ": " + describe(step));
            Map<String, String> node = nodeValues(ctx.node());
            if (step instanceof Step.Exec exec) {
                String command = Expansion.expandCommand(exec.command(), options, node);
                return ctx.local() ? local(command, options, ctx, label)
                        : remote(ctx, label, () -> ssh.exec(ctx.ssh(), ctx.project(), ctx.node(), command, environment(options, ctx), ctx.execution(), label, ctx.log()));
            }
            if (step instanceof Step.Script script) {
                String suffix = script.fileExtension().isEmpty() ? ".sh" : (script.fileExtension().startsWith(".") ? "" : ".") + script.fileExtension();
                byte[] content = Expansion.expandScript(script.script(), options, node).getBytes(StandardCharsets.UTF_8);
                return script(content, suffix, script.interpreter(), script.argsQuoted(), expandedArgs(script.args(), options, node), options, ctx, label);
            }
            if (step instanceof Step.ScriptFile file) {
                Path path;
                try {
                    path = Path.of(Expansion.expandPath(file.path(), options, node));
                } catch (IllegalArgumentException confined) {
                    return StepResult.failed(confined.getMessage());
                }
                if (!localSteps.enabled()) {
                    // The file lies on the Tandem host: reading it for a node would let a job send the host's files anywhere.
                    return StepResult.failed("a scriptfile is read on the Tandem host; " + LOCAL_STEPS_OFF);
                }
                if (!Files.isRegularFile(path)) {
                    return StepResult.failed("script file " + path + " does not exist on " + (ctx.local() ? "node " + ctx.nodeName() : "the Tandem host"));
                }
                List<String> args = expandedArgs(file.args(), options, node);
                byte[] content;
                try {
                    content = localSteps.user() == null ? Files.readAllBytes(path) : localSteps.user().read(path);
                } catch (IOException unreadable) {
                    return StepResult.failed("cannot read the script file " + path + ": " + unreadable.getMessage());
                }
                if (ctx.local()) {
                    return process(scriptCommand(path.toString(), startsWithShebang(content), file.interpreter(), file.argsQuoted(), args),
                            options, ctx, label);
                }
                String name = path.getFileName().toString();
                String suffix = name.contains(".") ? name.substring(name.lastIndexOf('.')) : ".sh";
                return script(content, suffix, file.interpreter(), file.argsQuoted(), args, options, ctx, label);
            }
            if (step instanceof Step.JobRef ref) {
                return jobRef(ref, options, ctx, callStack, label);
            }
            if (step instanceof Step.Noop) {
                ctx.log().append(new LogEntry(clock.instant(), ctx.nodeName(), label, "stdout", "NORMAL", "no-op"));
                return StepResult.OK;
            }
            return StepResult.failed("step type '" + ((Step.Unsupported) step).type() + "' is not supported by this version of Tandem");
        } catch (IllegalArgumentException e) {
            return StepResult.failed(e.getMessage());
        }
    }

    private StepResult script(byte[] content, String suffix, String interpreter, boolean quoted, List<String> args,
                              Map<String, String> options, Context ctx, String label) {
        boolean shebang = startsWithShebang(content);
        if (!ctx.local()) {
            return remote(ctx, label, () -> ssh.script(ctx.ssh(), ctx.project(), ctx.node(), content, suffix,
                    path -> String.join(" ", scriptCommand(path, shebang, interpreter, quoted, args).stream().map(Expansion::shellQuote).toList()),
                    environment(options, ctx), ctx.execution(), label, ctx.log()));
        }
        Path file = null;
        try {
            file = Files.createTempFile(ctx.workDir(), "step-" + ctx.execution().id() + "-", suffix,
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Files.write(file, content);
            if (localSteps.user() != null) {
                localSteps.user().own(file);
            }
            return process(scriptCommand(file.toString(), shebang, interpreter, quoted, args), options, ctx, label);
        } catch (IOException e) {
            return StepResult.failed("cannot write the script to " + ctx.workDir() + ": " + e.getMessage());
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // a leftover temp file in the work folder is harmless and visible
                }
            }
        }
    }

    @FunctionalInterface
    private interface RemoteCall {
        int run() throws SshNodeRunner.NodeException;
    }

    private StepResult remote(Context ctx, String label, RemoteCall call) {
        try {
            int exit = call.run();
            if (ctx.execution().stopping()) {
                return StepResult.failed(ctx.execution().stopRequest().reason());
            }
            return exit == 0 ? StepResult.OK : StepResult.failed("exit code " + exit + " on node " + ctx.nodeName());
        } catch (SshNodeRunner.NodeException e) {
            if (ctx.execution().stopping()) {
                return StepResult.failed(ctx.execution().stopRequest().reason());
            }
            return StepResult.failed(e.getMessage());
        }
    }

    /** Rundeck: with an interpreter, {@code interpreter file args} (quoted as one word when asked); else the file itself. */
    private static List<String> scriptCommand(String file, boolean shebang, String interpreter, boolean quoted, List<String> argv) {
        List<String> command = new ArrayList<>();
        if (!interpreter.isBlank()) {
            command.addAll(Arguments.split(interpreter));
            if (quoted) {
                StringBuilder line = new StringBuilder(Expansion.shellQuote(file));
                argv.forEach(a -> line.append(' ').append(Expansion.shellQuote(a)));
                command.add(line.toString());
                return command;
            }
            command.add(file);
        } else if (shebang) {
            command.add(file);
        } else {
            command.add("/bin/sh");
            command.add(file);
        }
        command.addAll(argv);
        return command;
    }

    private static boolean startsWithShebang(byte[] content) {
        return content.length >= 2 && content[0] == '#' && content[1] == '!';
    }

    /**
     * A plain command line starts as its program; anything the shell must read goes to
     * {@code /bin/sh -c}. A step's PATH is the runtime's own (the step's variables are all RD_*).
     * A program started directly gets the PWD that dash exports: the work folder's physical path.
     */
    private StepResult local(String line, Map<String, String> options, Context ctx, String label) {
        Optional<List<String>> direct = SimpleCommand.argv(line, System.getenv("PATH"));
        if (direct.isEmpty()) {
            return process(List.of("/bin/sh", "-c", line), Map.of(), options, ctx, label);
        }
        Path workDir = ctx.workDir().toAbsolutePath();
        try {
            workDir = workDir.toRealPath();
        } catch (IOException e) {
            // the start itself reports a missing work folder
        }
        return process(direct.get(), Map.of("PWD", workDir.toString()), options, ctx, label);
    }

    private StepResult process(List<String> command, Map<String, String> options, Context ctx, String label) {
        return process(command, Map.of(), options, ctx, label);
    }

    private static final String LOCAL_STEPS_OFF = "steps on the Tandem host are switched off on this runtime (execution.localSteps: false); "
            + "run them on a node over SSH";

    private StepResult process(List<String> command, Map<String, String> extraEnvironment, Map<String, String> options, Context ctx, String label) {
        if (!localSteps.enabled()) {
            return StepResult.failed(LOCAL_STEPS_OFF);
        }
        try {
            Map<String, String> environment = environment(options, ctx);
            environment.putAll(extraEnvironment);
            int exit = processes.run(command, environment, ctx.workDir(), ctx.execution(), ctx.nodeName(), label, ctx.log());
            if (ctx.execution().stopping()) {
                return StepResult.failed(ctx.execution().stopRequest().reason());
            }
            return exit == 0 ? StepResult.OK : StepResult.failed("exit code " + exit);
        } catch (IOException e) {
            return StepResult.failed("cannot start " + command.get(0) + " on node " + ctx.nodeName() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return StepResult.failed("interrupted while waiting for the step");
        }
    }

    /** RD_JOB_*, RD_OPTION_* and Rundeck's RD_NODE_* variables of the node the step runs on. */
    private static Map<String, String> environment(Map<String, String> options, Context ctx) {
        Map<String, String> environment = new LinkedHashMap<>(ctx.jobEnvironment());
        environment.putAll(Expansion.environment(options));
        nodeValues(ctx.node()).forEach((key, value) ->
                environment.put("RD_NODE_" + key.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9_]", "_"), value));
        return environment;
    }

    /** What {@code ${node.x}} refers to: the node's name, tags (comma separated) and attributes. */
    private static Map<String, String> nodeValues(Node node) {
        Map<String, String> values = new LinkedHashMap<>(node.attributes());
        values.put("name", node.name());
        values.put("tags", String.join(",", node.tags().stream().sorted().toList()));
        return values;
    }

    private StepResult jobRef(Step.JobRef ref, Map<String, String> options, Context ctx, List<String> callStack, String label) {
        String project = ref.project() == null ? ctx.project() : Expansion.expand(ref.project(), options);
        Optional<StoredJob> target = ref.uuid() != null ? jobs.find(Expansion.expand(ref.uuid(), options))
                : jobs.findByName(project, Expansion.expand(ref.group(), options), Expansion.expand(ref.name(), options));
        if (target.isEmpty()) {
            return StepResult.failed("referenced job " + (ref.uuid() != null ? "uuid " + ref.uuid()
                    : "'" + (ref.group().isEmpty() ? "" : ref.group() + "/") + ref.name() + "' in project " + project) + " does not exist");
        }
        StoredJob child = target.get();
        if (!child.project().equals(ctx.project())) {
            Optional<String> refused = refGuard.refusal(ctx.principal(), child.project());
            if (refused.isPresent()) {
                return StepResult.failed("referenced job '" + child.name() + "' of project '" + child.project() + "': " + refused.get());
            }
        }
        if (callStack.contains(child.id().toString())) {
            return StepResult.failed("job reference cycle: job '" + child.name() + "' is already running in this execution");
        }
        if (callStack.size() >= MAX_JOBREF_DEPTH) {
            return StepResult.failed("job references nest deeper than " + MAX_JOBREF_DEPTH);
        }
        JobDefinition definition = ref.nodeFilter() == null || ref.nodeStep() ? child.definition() : withFilter(child.definition(), ref.nodeFilter());
        ResolvedOptions childOptions;
        try {
            childOptions = optionValues.resolveAll(child.project(), definition.options(), jobArgs(ref.args(), options));
        } catch (Refusal e) {
            return StepResult.failed("referenced job '" + definition.fullName() + "': " + e.getMessage());
        }
        ctx.masker().add(childOptions.secretValues());
        note(ctx, label, LogLevel.NORMAL, "running referenced job '" + definition.fullName() + "'");
        List<String> stack = new ArrayList<>(callStack);
        stack.add(child.id().toString());
        Context childContext = new Context(ctx.execution(), ctx.log(), ctx.host(), ref.nodeStep() ? ctx.node() : ctx.host(), child.project(),
                ctx.workDir(), ctx.masker(), ctx.level(), ctx.jobEnvironment(), ctx.ssh(), ctx.principal());
        return run(definition, childOptions.forSteps(), childContext, stack, label + "/", ref.nodeStep() ? ctx.node() : null);
    }

    /** The referenced job with the jobref's own node filter in place of its own (keeping its dispatch settings). */
    private static JobDefinition withFilter(JobDefinition d, String filter) {
        dev.tandem.runtime.job.NodeDispatch own = d.nodes();
        dev.tandem.runtime.job.NodeDispatch nodes = own == null ? new dev.tandem.runtime.job.NodeDispatch(filter, "", "1", false, "name", false, true, false)
                : new dev.tandem.runtime.job.NodeDispatch(filter, own.excludeFilter(), own.threadcount(), own.keepgoing(), own.rankAttribute(),
                own.descending(), own.excludePrecedence(), own.successOnEmpty());
        return new JobDefinition(d.name(), d.group(), d.uuid(), d.loglevel(), d.keepgoing(), d.strategy(), d.steps(), d.options(), d.timeout(),
                d.multipleExecutions(), d.executionEnabled(), d.retry(), d.retryDelay(), nodes, d.cron(), d.scheduleEnabled(), d.timeZone(),
                d.loglimit(), d.loglimitAction(), d.loglimitStatus());
    }

    /** Words of an {@code args} string, each expanded after splitting (a value with spaces stays one word). */
    private static List<String> expandedArgs(String args, Map<String, String> options, Map<String, String> node) {
        return Arguments.split(args).stream().map(word -> Expansion.expand(word, options, node)).toList();
    }

    /** Rundeck jobref args: {@code -name value -other 'two words'}; values expanded after splitting. */
    static Map<String, String> jobArgs(String args, Map<String, String> options) {
        List<String> words = Arguments.split(args).stream().map(word -> Expansion.expand(word, options)).toList();
        Map<String, String> values = new LinkedHashMap<>();
        for (int i = 0; i < words.size(); i++) {
            String word = words.get(i);
            if (!word.startsWith("-") || word.length() < 2) {
                throw new IllegalArgumentException("jobref args are '-option value' pairs; word " + (i + 1) + " is not an '-option' name");
            }
            String value = i + 1 < words.size() && !words.get(i + 1).startsWith("-") ? words.get(++i) : "";
            values.put(word.substring(1), value);
        }
        return values;
    }

    private static Map<String, String> withResult(Map<String, String> options, StepResult result) {
        Map<String, String> copy = new HashMap<>(options);
        copy.put("result.reason", result.reason() == null ? "" : result.reason());
        return copy;
    }

    private void note(Context ctx, String step, LogLevel level, String message) {
        if (level.compareTo(ctx.level()) <= 0) {
            ctx.log().append(new LogEntry(clock.instant(), ctx.nodeName(), step, "tandem", level.name(), message));
        }
    }

    private static String describe(Step step) {
        if (step instanceof Step.Exec exec) {
            return "exec " + exec.command();
        }
        if (step instanceof Step.Script script) {
            return "script (" + script.script().lines().count() + " lines)" + (script.args().isEmpty() ? "" : " with args " + script.args());
        }
        if (step instanceof Step.ScriptFile file) {
            return "scriptfile " + file.path() + (file.args().isEmpty() ? "" : " " + file.args());
        }
        if (step instanceof Step.JobRef ref) {
            return "jobref " + (ref.uuid() != null ? ref.uuid() : (ref.group().isEmpty() ? "" : ref.group() + "/") + ref.name());
        }
        if (step instanceof Step.Noop) {
            return Step.Noop.TYPE;
        }
        return "unsupported step";
    }
}
