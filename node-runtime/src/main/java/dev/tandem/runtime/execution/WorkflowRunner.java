package dev.tandem.runtime.execution;

import dev.tandem.runtime.api.ApiException;
import dev.tandem.runtime.job.JobDefinition;
import dev.tandem.runtime.job.JobRepository;
import dev.tandem.runtime.job.Step;
import dev.tandem.runtime.job.StoredJob;
import dev.tandem.runtime.logs.LogEntry;
import dev.tandem.runtime.logs.LogWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Runs a workflow on this runtime's own node, with Rundeck's result semantics: a failed step
 * stops the workflow unless {@code keepgoing}; its error handler runs first, and a successful
 * handler recovers the step when {@code keepgoing} or the handler's {@code keepgoingOnSuccess}
 * says so. A {@code jobref} runs the referenced job's workflow inline with its own options.
 */
final class WorkflowRunner {
    private static final int MAX_JOBREF_DEPTH = 16;

    /** What one run of a workflow needs besides the workflow itself. */
    record Context(RunningExecution execution, LogWriter log, String node, String project, Path workDir,
                   SecretMasker masker, LogLevel level, Map<String, String> jobEnvironment) {}

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
    private final JobRepository jobs;
    private final OptionValues optionValues;
    private final Clock clock;

    WorkflowRunner(LocalProcessRunner processes, JobRepository jobs, OptionValues optionValues, Clock clock) {
        this.processes = processes;
        this.jobs = jobs;
        this.optionValues = optionValues;
        this.clock = clock;
    }

    /** Runs every step; returns the workflow's result. */
    StepResult run(JobDefinition job, Map<String, String> options, Context ctx, List<String> callStack, String stepPrefix) {
        boolean failed = false;
        String firstFailure = null;
        List<Step> steps = job.steps();
        for (int i = 0; i < steps.size(); i++) {
            if (ctx.execution().stopping()) {
                return StepResult.failed(ctx.execution().stopRequest().reason());
            }
            String label = stepPrefix + (i + 1);
            Step step = steps.get(i);
            StepResult result = runStep(step, options, ctx, callStack, label);
            if (!result.success() && step.errorHandler().isPresent() && !ctx.execution().stopping()) {
                Step handler = step.errorHandler().get();
                note(ctx, label, LogLevel.WARN, "step " + label + " failed (" + result.reason() + "); running its error handler");
                StepResult handled = runStep(handler, withResult(options, result), ctx, callStack, label + ":errorhandler");
                if (handled.success() && (job.keepgoing() || handler.keepgoingOnSuccess())) {
                    note(ctx, label, LogLevel.NORMAL, "error handler of step " + label + " succeeded; the step counts as recovered");
                    result = StepResult.OK;
                } else if (!handled.success()) {
                    result = StepResult.failed(result.reason() + "; its error handler failed too: " + handled.reason());
                }
            }
            if (!result.success()) {
                failed = true;
                if (firstFailure == null) {
                    firstFailure = "step " + label + " failed: " + result.reason();
                }
                note(ctx, label, LogLevel.ERROR, "step " + label + " failed: " + result.reason());
                if (!job.keepgoing()) {
                    return StepResult.failed(firstFailure);
                }
            }
        }
        return failed ? StepResult.failed(firstFailure) : StepResult.OK;
    }

    private StepResult runStep(Step step, Map<String, String> options, Context ctx, List<String> callStack, String label) {
        try {
            note(ctx, label, LogLevel.VERBOSE, "step " + label + ": " + describe(step));
            if (step instanceof Step.Exec exec) {
                return process(List.of("/bin/sh", "-c", Expansion.expand(exec.command(), options)), options, ctx, label);
            }
            if (step instanceof Step.Script script) {
                return script(script, options, ctx, label);
            }
            if (step instanceof Step.ScriptFile file) {
                Path path = Path.of(Expansion.expand(file.path(), options));
                if (!Files.isRegularFile(path)) {
                    return StepResult.failed("script file " + path + " does not exist on node " + ctx.node());
                }
                return process(scriptCommand(path, file.interpreter(), file.argsQuoted(), expandedArgs(file.args(), options)), options, ctx, label);
            }
            if (step instanceof Step.JobRef ref) {
                return jobRef(ref, options, ctx, callStack, label);
            }
            if (step instanceof Step.Noop) {
                ctx.log().append(new LogEntry(clock.instant(), ctx.node(), label, "stdout", "NORMAL", "no-op"));
                return StepResult.OK;
            }
            return StepResult.failed("step type '" + ((Step.Unsupported) step).type() + "' is not supported by this version of Tandem");
        } catch (IllegalArgumentException e) {
            return StepResult.failed(e.getMessage());
        }
    }

    private StepResult script(Step.Script script, Map<String, String> options, Context ctx, String label) {
        String suffix = script.fileExtension().isEmpty() ? ".sh" : (script.fileExtension().startsWith(".") ? "" : ".") + script.fileExtension();
        Path file = null;
        try {
            file = Files.createTempFile(ctx.workDir(), "step-" + ctx.execution().id() + "-", suffix,
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Files.writeString(file, Expansion.expandScript(script.script(), options));
            return process(scriptCommand(file, script.interpreter(), script.argsQuoted(), expandedArgs(script.args(), options)), options, ctx, label);
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

    /** Rundeck: with an interpreter, {@code interpreter file args} (quoted as one word when asked); else the file itself. */
    private static List<String> scriptCommand(Path file, String interpreter, boolean quoted, List<String> argv) {
        List<String> command = new ArrayList<>();
        if (!interpreter.isBlank()) {
            command.addAll(Arguments.split(interpreter));
            if (quoted) {
                StringBuilder line = new StringBuilder(shellQuote(file.toString()));
                argv.forEach(a -> line.append(' ').append(shellQuote(a)));
                command.add(line.toString());
                return command;
            }
            command.add(file.toString());
        } else if (startsWithShebang(file)) {
            command.add(file.toString());
        } else {
            command.add("/bin/sh");
            command.add(file.toString());
        }
        command.addAll(argv);
        return command;
    }

    private static boolean startsWithShebang(Path file) {
        try (var in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(2);
            return head.length == 2 && head[0] == '#' && head[1] == '!';
        } catch (IOException e) {
            return false;
        }
    }

    private static String shellQuote(String word) {
        return "'" + word.replace("'", "'\\''") + "'";
    }

    private StepResult process(List<String> command, Map<String, String> options, Context ctx, String label) {
        try {
            Map<String, String> environment = new LinkedHashMap<>(ctx.jobEnvironment());
            environment.putAll(Expansion.environment(options));
            int exit = processes.run(command, environment, ctx.workDir(), ctx.execution(), ctx.node(), label, ctx.log());
            if (ctx.execution().stopping()) {
                return StepResult.failed(ctx.execution().stopRequest().reason());
            }
            return exit == 0 ? StepResult.OK : StepResult.failed("exit code " + exit);
        } catch (IOException e) {
            return StepResult.failed("cannot start " + command.get(0) + " on node " + ctx.node() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return StepResult.failed("interrupted while waiting for the step");
        }
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
        if (callStack.contains(child.id().toString())) {
            return StepResult.failed("job reference cycle: job '" + child.name() + "' is already running in this execution");
        }
        if (callStack.size() >= MAX_JOBREF_DEPTH) {
            return StepResult.failed("job references nest deeper than " + MAX_JOBREF_DEPTH);
        }
        JobDefinition definition = child.definition();
        ResolvedOptions childOptions;
        try {
            childOptions = optionValues.resolveAll(definition.options(), jobArgs(ref.args(), options));
        } catch (ApiException e) {
            return StepResult.failed("referenced job '" + definition.fullName() + "': " + e.getMessage());
        }
        ctx.masker().add(childOptions.secretValues());
        note(ctx, label, LogLevel.NORMAL, "running referenced job '" + definition.fullName() + "'");
        List<String> stack = new ArrayList<>(callStack);
        stack.add(child.id().toString());
        return run(definition, childOptions.forSteps(), ctx, stack, label + "/");
    }

    /** Words of an {@code args} string, each expanded after splitting (a value with spaces stays one word). */
    private static List<String> expandedArgs(String args, Map<String, String> options) {
        return Arguments.split(args).stream().map(word -> Expansion.expand(word, options)).toList();
    }

    /** Rundeck jobref args: {@code -name value -other 'two words'}; values expanded after splitting. */
    static Map<String, String> jobArgs(String args, Map<String, String> options) {
        List<String> words = expandedArgs(args, options);
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
            ctx.log().append(new LogEntry(clock.instant(), ctx.node(), step, "tandem", level.name(), message));
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
