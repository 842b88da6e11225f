package dev.tandem.runtime.job;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** Reads a stored (already validated) Rundeck job document into its typed {@link JobDefinition}. */
public final class JobDocuments {
    private JobDocuments() {}

    /** What a secure option's inline default reads as outside the runtime. */
    public static final String MASKED_DEFAULT = "*****";

    /**
     * The document as readers and exports see it: a secure option's inline default ({@code value})
     * reads {@value #MASKED_DEFAULT}. Importing that text back keeps the stored default
     * ({@link #withStoredSecureDefaults}), so an export round-trips on the same site.
     */
    public static Map<String, Object> withSecureDefaultsMasked(Map<String, Object> job) {
        return mapSecureOptions(job, (name, option) -> {
            if (option.get("value") != null) {
                option.put("value", MASKED_DEFAULT);
            }
        });
    }

    /** {@code job} with each secure option's default that reads {@value #MASKED_DEFAULT} taken from {@code stored}. */
    public static Map<String, Object> withStoredSecureDefaults(Map<String, Object> job, Map<String, Object> stored) {
        Map<String, Object> storedDefaults = new java.util.HashMap<>();
        mapSecureOptions(stored, (name, option) -> storedDefaults.put(name, option.get("value")));
        return mapSecureOptions(job, (name, option) -> {
            if (MASKED_DEFAULT.equals(option.get("value")) && storedDefaults.get(name) != null) {
                option.put("value", storedDefaults.get(name));
            }
        });
    }

    /** A copy of the document in which {@code change} may edit (a copy of) each secure option. */
    private static Map<String, Object> mapSecureOptions(Map<String, Object> job,
                                                        java.util.function.BiConsumer<String, Map<String, Object>> change) {
        Map<String, Object> copy = new java.util.LinkedHashMap<>(job);
        Object declared = job.get("options");
        if (declared instanceof List<?> list) {
            List<Object> options = new ArrayList<>();
            for (Object item : list) {
                options.add(item instanceof Map<?, ?> m ? secureCopy(asMap(m), text(asMap(m).get("name"), ""), change) : item);
            }
            copy.put("options", options);
        } else if (declared instanceof Map<?, ?> byName) {
            Map<Object, Object> options = new java.util.LinkedHashMap<>();
            byName.forEach((name, option) -> options.put(name, option instanceof Map<?, ?> m ? secureCopy(asMap(m), name.toString(), change) : option));
            copy.put("options", options);
        }
        return copy;
    }

    private static Map<String, Object> secureCopy(Map<String, Object> option, String name,
                                                  java.util.function.BiConsumer<String, Map<String, Object>> change) {
        if (!isTrue(option.get("secure"), false)) {
            return option;
        }
        Map<String, Object> copy = new java.util.LinkedHashMap<>(option);
        change.accept(name, copy);
        return copy;
    }

    public static JobDefinition definition(Map<String, Object> job) {
        Map<String, Object> sequence = asMap(job.get("sequence"));
        List<Step> steps = new ArrayList<>();
        for (Object step : asList(sequence.get("commands"))) {
            steps.add(step(asMap(step)));
        }
        List<JobOption> options = new ArrayList<>();
        Object declared = job.get("options");
        if (declared instanceof List<?> list) {
            for (Object option : list) {
                options.add(option(asMap(option), null));
            }
        } else if (declared instanceof Map<?, ?> byName) {
            byName.forEach((name, option) -> options.add(option(option == null ? Map.of() : asMap(option), name.toString())));
        }
        return new JobDefinition(
                text(job.get("name"), ""),
                text(job.get("group"), ""),
                text(job.get("uuid"), null),
                text(job.get("loglevel"), "INFO"),
                isTrue(sequence.get("keepgoing"), false),
                text(sequence.get("strategy"), "node-first"),
                List.copyOf(steps),
                List.copyOf(options),
                text(job.get("timeout"), null),
                isTrue(job.get("multipleExecutions"), false),
                isTrue(job.get("executionEnabled"), true),
                job.get("retry") instanceof Map<?, ?> retry ? text(retry.get("retry"), null) : text(job.get("retry"), null),
                job.get("retry") instanceof Map<?, ?> retry ? text(retry.get("delay"), null) : null,
                dispatch(job.get("nodefilters")),
                job.get("schedule") instanceof Map<?, ?> schedule ? quartzExpression(asMap(schedule)) : null,
                isTrue(job.get("scheduleEnabled"), true),
                text(job.get("timeZone"), java.time.ZoneId.systemDefault().getId()),
                text(job.get("loglimit"), null),
                text(job.get("loglimitAction"), "halt"),
                text(job.get("loglimitStatus"), "failed"));
    }

    private static Step step(Map<String, Object> step) {
        String description = text(step.get("description"), "");
        Optional<Step> handler = step.get("errorhandler") == null ? Optional.empty() : Optional.of(step(asMap(step.get("errorhandler"))));
        boolean keepgoingOnSuccess = isTrue(step.get("keepgoingOnSuccess"), false);
        String args = text(step.get("args"), "");
        String interpreter = text(step.get("scriptInterpreter"), "");
        boolean quoted = isTrue(step.get("interpreterArgsQuoted"), false);
        if (step.containsKey("exec")) {
            return new Step.Exec(step.get("exec").toString(), description, handler, keepgoingOnSuccess);
        }
        if (step.containsKey("script")) {
            return new Step.Script(step.get("script").toString(), args, interpreter, quoted,
                    text(step.get("fileExtension"), ""), description, handler, keepgoingOnSuccess);
        }
        if (step.containsKey("scriptfile")) {
            return new Step.ScriptFile(step.get("scriptfile").toString(), args, interpreter, quoted, description, handler, keepgoingOnSuccess);
        }
        if (step.containsKey("jobref")) {
            Map<String, Object> ref = asMap(step.get("jobref"));
            String override = ref.get("nodefilters") instanceof Map<?, ?> filters && filters.get("filter") != null
                    && !filters.get("filter").toString().isBlank() ? filters.get("filter").toString() : null;
            return new Step.JobRef(text(ref.get("name"), null), text(ref.get("group"), ""), text(ref.get("uuid"), null),
                    text(ref.get("project"), null), text(ref.get("args"), ""), isTrue(ref.get("nodeStep"), false), override,
                    description, handler, keepgoingOnSuccess);
        }
        if (Step.Noop.TYPE.equals(step.get("type"))) {
            return new Step.Noop(description, handler, keepgoingOnSuccess);
        }
        String type = step.containsKey("type") ? "plugin " + step.get("type") : "scripturl";
        return new Step.Unsupported(type, description, handler, keepgoingOnSuccess);
    }

    private static JobOption option(Map<String, Object> option, String name) {
        Object values = option.get("values");
        List<String> allowed = values instanceof List<?> list ? list.stream().map(String::valueOf).toList()
                : values == null ? List.of() : Arrays.stream(values.toString().split(",")).map(String::trim).toList();
        return new JobOption(
                text(option.get("name"), name),
                text(option.get("value"), null),
                allowed,
                isTrue(option.get("enforced"), false),
                isTrue(option.get("required"), false),
                text(option.get("regex"), null),
                isTrue(option.get("multivalued"), false),
                text(option.get("delimiter"), ","),
                isTrue(option.get("secure"), false),
                isTrue(option.get("valueExposed"), false),
                text(option.get("storagePath"), null));
    }

    /** The job's node dispatch; null when it has no node filter (its steps run on the runtime's own host). */
    private static NodeDispatch dispatch(Object nodefilters) {
        if (!(nodefilters instanceof Map<?, ?> filters) || filters.get("filter") == null || filters.get("filter").toString().isBlank()) {
            return null;
        }
        Map<String, Object> dispatch = filters.get("dispatch") == null ? Map.of() : asMap(filters.get("dispatch"));
        return new NodeDispatch(filters.get("filter").toString(), text(filters.get("excludeFilter"), ""),
                text(dispatch.get("threadcount"), "1"), isTrue(dispatch.get("keepgoing"), false),
                text(dispatch.get("rankAttribute"), "name"), "descending".equals(text(dispatch.get("rankOrder"), "ascending")),
                isTrue(dispatch.get("excludePrecedence"), true), isTrue(dispatch.get("successOnEmptyNodeFilter"), false));
    }

    /**
     * The Quartz expression of a Rundeck schedule: {@code crontab} as given, or built from
     * {@code time}/{@code month}/{@code weekday}/{@code dayofmonth}/{@code year}.
     */
    public static String quartzExpression(Map<String, Object> schedule) {
        if (schedule.get("crontab") != null) {
            return schedule.get("crontab").toString().trim();
        }
        Map<String, Object> time = schedule.get("time") == null ? Map.of() : requireMap(schedule.get("time"), "schedule.time");
        String seconds = text(time.get("seconds"), "0");
        String minute = text(time.get("minute"), "0");
        String hour = text(time.get("hour"), "0");
        String month = text(schedule.get("month"), "*");
        String year = text(schedule.get("year"), "*");
        String weekday = schedule.get("weekday") == null ? null : text(requireMap(schedule.get("weekday"), "schedule.weekday").get("day"), "*");
        String dayOfMonth = schedule.get("dayofmonth") == null ? null : text(requireMap(schedule.get("dayofmonth"), "schedule.dayofmonth").get("day"), "?");
        if (dayOfMonth == null || dayOfMonth.equals("?")) {
            dayOfMonth = "?";
            weekday = weekday == null ? "*" : weekday;
        } else {
            weekday = "?";
        }
        return String.join(" ", seconds, minute, hour, dayOfMonth, month, weekday, year);
    }

    /** Rundeck writes booleans as YAML booleans or as the strings "true"/"false"; null means not a boolean. */
    public static Boolean flag(Object value) {
        if (value instanceof Boolean b) {
            return b;
        }
        if (value instanceof String s) {
            String lower = s.trim().toLowerCase(Locale.ROOT);
            if (lower.equals("true")) {
                return true;
            }
            if (lower.equals("false")) {
                return false;
            }
        }
        return null;
    }

    private static boolean isTrue(Object value, boolean otherwise) {
        Boolean flag = flag(value);
        return flag == null ? otherwise : flag;
    }

    private static String text(Object value, String otherwise) {
        return value == null ? otherwise : value.toString();
    }

    private static Map<String, Object> requireMap(Object value, String at) {
        if (value instanceof Map<?, ?>) {
            return asMap(value);
        }
        throw new IllegalArgumentException("'" + at + "' must be a map");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object value) {
        return value instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
    }

    private static List<?> asList(Object value) {
        return value instanceof List<?> list ? list : List.of();
    }
}
