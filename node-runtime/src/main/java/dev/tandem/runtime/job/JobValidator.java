package dev.tandem.runtime.job;

import dev.tandem.runtime.refusal.Refusal;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.parser.CronParser;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

import dev.tandem.runtime.text.RundeckDuration;
/**
 * Checks a Rundeck job-YAML document (a list of jobs) key by key against Rundeck's documented
 * semantics. Every problem names the job index and name, the field path and the YAML line;
 * unknown keys and unsupported step types become warnings (and are kept, so export round-trips).
 */
public final class JobValidator {
    static final Set<String> JOB_KEYS = Set.of("name", "group", "uuid", "id", "description", "loglevel",
            "executionEnabled", "scheduleEnabled", "sequence", "options", "schedule", "nodefilters",
            "nodesSelectedByDefault", "nodeFilterEditable", "timeout", "retry", "multipleExecutions",
            "loglimit", "loglimitAction", "loglimitStatus", "notification", "notifyAvgDurationThreshold",
            "timeZone", "defaultTab", "plugins", "orchestrator", "maxMultipleExecutions");
    /** Keys Tandem stores and exports but does not act on in this version. */
    static final Set<String> STORED_ONLY = Set.of("notification", "notifyAvgDurationThreshold", "plugins", "orchestrator",
            "defaultTab", "nodeFilterEditable", "nodesSelectedByDefault", "maxMultipleExecutions");
    static final Set<String> SEQUENCE_KEYS = Set.of("keepgoing", "strategy", "commands", "pluginConfig");
    static final Set<String> STRATEGIES = Set.of("node-first", "step-first", "sequential", "parallel");
    static final Set<String> STEP_KEYS = Set.of("exec", "script", "scriptfile", "scripturl", "jobref", "type", "nodeStep",
            "configuration", "args", "scriptInterpreter", "interpreterArgsQuoted", "fileExtension",
            "expandTokenInScriptFile", "errorhandler", "description", "keepgoingOnSuccess", "plugins");
    static final List<String> RUNNABLE_STEP_TYPES = List.of("exec", "script", "scriptfile", "jobref");
    static final Set<String> JOBREF_KEYS = Set.of("name", "group", "uuid", "project", "args", "nodeStep", "importOptions",
            "failOnDisable", "childNodes", "ignoreNotifications", "useName", "nodefilters");
    static final Set<String> OPTION_KEYS = Set.of("name", "description", "value", "values", "valuesUrl", "enforced",
            "required", "regex", "multivalued", "delimiter", "secure", "valueExposed", "storagePath", "isDate",
            "dateFormat", "label", "hidden", "sortValues", "type", "multivalueAllSelected", "valuesListDelimiter",
            "optionValuesPluginType");
    static final Set<String> SCHEDULE_KEYS = Set.of("crontab", "time", "month", "weekday", "dayofmonth", "year");
    static final Set<String> NODEFILTER_KEYS = Set.of("filter", "excludeFilter", "dispatch");
    static final Set<String> DISPATCH_KEYS = Set.of("threadcount", "keepgoing", "rankAttribute", "rankOrder",
            "excludePrecedence", "successOnEmptyNodeFilter");
    static final Set<String> LOGLEVELS = Set.of("DEBUG", "VERBOSE", "INFO", "WARN", "ERROR");
    private static final Pattern OPTION_NAME = Pattern.compile("[A-Za-z0-9_.\\-]+");
    private static final Pattern OPTION_REF = Pattern.compile("\\$\\{option\\.[A-Za-z0-9_.\\-]+}");
    private static final Pattern LOGLIMIT = Pattern.compile("\\d{1,12}(/node|[bB]|[kKmMgG][bB]?)?");
    private static final CronParser QUARTZ = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.QUARTZ));

    /** Validates every job; throws with all problems found, or returns every job with its warnings. */
    public List<ValidatedJob> validate(YamlTree tree) {
        Object root = tree.root();
        List<Object> jobs;
        if (root instanceof List<?> list) {
            jobs = new ArrayList<>(list);
        } else if (root instanceof Map<?, ?>) {
            jobs = List.of(root);
        } else {
            throw JobImportException.of(Refusal.Kind.MALFORMED, "expected a list of jobs, found a single value", tree.lineOf(""));
        }
        if (jobs.isEmpty()) {
            throw JobImportException.of(Refusal.Kind.MALFORMED, "the import holds no job", tree.lineOf(""));
        }
        List<ImportProblem> problems = new ArrayList<>();
        List<ValidatedJob> result = new ArrayList<>();
        Set<String> fullNames = new HashSet<>();
        Set<String> uuids = new HashSet<>();
        boolean listRoot = root instanceof List<?>;
        for (int i = 0; i < jobs.size(); i++) {
            JobCheck check = new JobCheck(tree, listRoot ? "[" + i + "]" : "", i, problems);
            ValidatedJob job = check.job(jobs.get(i));
            if (job != null) {
                String fullName = job.definition().fullName();
                if (!fullNames.add(fullName)) {
                    check.problem("name", "job '" + fullName + "' appears twice in this import");
                }
                Object uuid = job.document().get("uuid");
                if (uuid != null && !uuids.add(uuid.toString())) {
                    check.problem("uuid", "uuid '" + uuid + "' appears twice in this import");
                }
                result.add(job);
            }
        }
        if (!problems.isEmpty()) {
            throw new JobImportException(Refusal.Kind.INVALID, problems);
        }
        return result;
    }

    /** Checks one job; problems are collected in the shared list. */
    private static final class JobCheck {
        private final YamlTree tree;
        private final String base;
        private final int index;
        private final List<ImportProblem> problems;
        private final List<String> warnings = new ArrayList<>();
        private String label;

        JobCheck(YamlTree tree, String base, int index, List<ImportProblem> problems) {
            this.tree = tree;
            this.base = base;
            this.index = index;
            this.problems = problems;
            this.label = "job[" + index + "]";
        }

        ValidatedJob job(Object value) {
            if (!(value instanceof Map<?, ?> raw)) {
                problem("", "a job must be a map of keys (name, sequence, ...)");
                return null;
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> job = new LinkedHashMap<>((Map<String, Object>) raw);
            int before = problems.size();
            String name = string(job, "name", "", true);
            if (name != null) {
                label = "job[" + index + "] '" + name + "'";
                if (name.isBlank() || name.contains("/")) {
                    problem("name", "a job name must not be blank nor contain '/'");
                }
            }
            String group = string(job, "group", "", false);
            if (group != null && (group.startsWith("/") || group.endsWith("/") || group.contains("//"))) {
                problem("group", "a group is a path like 'ops/deploy', without leading, trailing or double '/'");
            }
            string(job, "uuid", "", false);
            string(job, "description", "", false);
            String loglevel = string(job, "loglevel", "", false);
            if (loglevel != null && !LOGLEVELS.contains(loglevel)) {
                problem("loglevel", "loglevel must be one of " + sorted(LOGLEVELS) + ", not '" + loglevel + "'");
            }
            for (String flag : List.of("executionEnabled", "scheduleEnabled", "multipleExecutions", "nodesSelectedByDefault", "nodeFilterEditable")) {
                bool(job, flag, "");
            }
            for (String key : job.keySet()) {
                if (!JOB_KEYS.contains(key)) {
                    warnings.add("unknown key '" + key + "' (" + tree.lineOf(path(key)) + ") is kept but has no effect");
                } else if (STORED_ONLY.contains(key)) {
                    warnings.add("'" + key + "' is stored and exported but not acted on by this version of Tandem");
                }
            }
            sequence(job.get("sequence"));
            options(job.get("options"));
            schedule(job.get("schedule"));
            nodefilters(job.get("nodefilters"));
            timeout(job.get("timeout"));
            retry(job.get("retry"));
            loglimit(job);
            if (job.get("timeZone") != null) {
                try {
                    ZoneId.of(job.get("timeZone").toString());
                } catch (DateTimeException e) {
                    problem("timeZone", "unknown time zone '" + job.get("timeZone") + "'");
                }
            }
            if (problems.size() > before) {
                return null;
            }
            return new ValidatedJob(index, job, JobDocuments.definition(job), List.copyOf(warnings));
        }

        private void sequence(Object value) {
            if (value == null) {
                problem("sequence", "a job needs a 'sequence' with at least one step in 'commands'");
                return;
            }
            Map<String, Object> sequence = map(value, "sequence");
            if (sequence == null) {
                return;
            }
            unknownKeys(sequence, SEQUENCE_KEYS, "sequence");
            bool(sequence, "keepgoing", "sequence.");
            String strategy = string(sequence, "strategy", "sequence.", false);
            if (strategy != null && !STRATEGIES.contains(strategy)) {
                problem("sequence.strategy", "strategy must be one of " + sorted(STRATEGIES) + ", not '" + strategy + "'");
            } else if ("parallel".equals(strategy)) {
                warnings.add("strategy 'parallel' is stored; this version runs the steps one after another");
            }
            Object commands = sequence.get("commands");
            if (!(commands instanceof List<?> steps) || steps.isEmpty()) {
                problem("sequence.commands", "'commands' must be a list with at least one step");
                return;
            }
            for (int i = 0; i < steps.size(); i++) {
                step(steps.get(i), "sequence.commands[" + i + "]", true);
            }
        }

        private void step(Object value, String at, boolean mayHaveHandler) {
            Map<String, Object> step = map(value, at);
            if (step == null) {
                return;
            }
            List<String> types = new ArrayList<>();
            for (String type : List.of("exec", "script", "scriptfile", "scripturl", "jobref", "type")) {
                if (step.containsKey(type)) {
                    types.add(type);
                }
            }
            if (types.isEmpty()) {
                problem(at, "unknown step type: a step needs one of exec, script, scriptfile or jobref, but has only "
                        + (step.isEmpty() ? "no key" : "the keys " + step.keySet()));
                return;
            }
            if (types.size() > 1) {
                problem(at, "a step has exactly one type, this one has " + types);
                return;
            }
            String type = types.get(0);
            unknownKeys(step, STEP_KEYS, at);
            switch (type) {
                case "exec" -> nonBlank(step, "exec", at);
                case "script" -> nonBlank(step, "script", at);
                case "scriptfile" -> nonBlank(step, "scriptfile", at);
                case "jobref" -> jobref(step.get("jobref"), at + ".jobref");
                case "type" -> {
                    if (!Step.Noop.TYPE.equals(step.get("type"))) {
                        warnings.add("step " + at + " (" + tree.lineOf(path(at)) + ") has type '" + step.get("type")
                                + "', which Tandem stores but cannot run yet; running the job fails at that step");
                    }
                }
                default -> warnings.add("step " + at + " (" + tree.lineOf(path(at)) + ") has type '" + type
                        + "', which Tandem stores but cannot run yet; running the job fails at that step");
            }
            string(step, "args", at + ".", false);
            string(step, "scriptInterpreter", at + ".", false);
            string(step, "fileExtension", at + ".", false);
            string(step, "description", at + ".", false);
            bool(step, "interpreterArgsQuoted", at + ".");
            bool(step, "keepgoingOnSuccess", at + ".");
            if (step.containsKey("errorhandler")) {
                if (mayHaveHandler) {
                    step(step.get("errorhandler"), at + ".errorhandler", false);
                } else {
                    problem(at + ".errorhandler", "an error handler cannot have its own error handler");
                }
            }
        }

        private void jobref(Object value, String at) {
            Map<String, Object> ref = map(value, at);
            if (ref == null) {
                return;
            }
            unknownKeys(ref, JOBREF_KEYS, at);
            if (ref.get("name") == null && ref.get("uuid") == null) {
                problem(at, "a jobref names the job to run by 'name' (and 'group') or by 'uuid'");
            }
            for (String key : List.of("name", "group", "uuid", "project", "args")) {
                string(ref, key, at + ".", false);
            }
            if (ref.get("nodeStep") != null && JobDocuments.flag(ref.get("nodeStep")) == null) {
                problem(at + ".nodeStep", "nodeStep must be true or false");
            }
            if (Boolean.TRUE.equals(JobDocuments.flag(ref.get("childNodes")))) {
                warnings.add(at + ".childNodes is stored, but the referenced job runs on its own nodes (or on this step's node with nodeStep: true)");
            }
            if (ref.get("nodefilters") != null) {
                Map<String, Object> filters = map(ref.get("nodefilters"), at + ".nodefilters");
                if (filters != null) {
                    unknownKeys(filters, NODEFILTER_KEYS, at + ".nodefilters");
                    Object filter = filters.get("filter");
                    if (filter != null && !filter.toString().contains("${")) {
                        try {
                            dev.tandem.runtime.nodes.NodeFilter.parse(filter.toString());
                        } catch (dev.tandem.runtime.nodes.NodeFilter.FilterException e) {
                            problem(at + ".nodefilters.filter", "malformed node filter '" + filter + "': " + e.getMessage());
                        }
                    }
                }
            }
        }

        private void options(Object value) {
            if (value == null) {
                return;
            }
            List<Map<String, Object>> options = new ArrayList<>();
            List<String> paths = new ArrayList<>();
            if (value instanceof List<?> list) {
                for (int i = 0; i < list.size(); i++) {
                    Map<String, Object> option = map(list.get(i), "options[" + i + "]");
                    if (option != null) {
                        options.add(option);
                        paths.add("options[" + i + "]");
                    }
                }
            } else if (value instanceof Map<?, ?> byName) {
                for (Map.Entry<?, ?> e : byName.entrySet()) {
                    Map<String, Object> option = map(e.getValue() == null ? Map.of() : e.getValue(), "options." + e.getKey());
                    if (option != null) {
                        Map<String, Object> named = new LinkedHashMap<>(option);
                        named.putIfAbsent("name", e.getKey().toString());
                        options.add(named);
                        paths.add("options." + e.getKey());
                    }
                }
            } else {
                problem("options", "'options' must be a list of options");
                return;
            }
            Set<String> names = new HashSet<>();
            java.util.Map<String, String> variables = new java.util.HashMap<>();
            for (int i = 0; i < options.size(); i++) {
                Map<String, Object> option = options.get(i);
                String at = paths.get(i);
                unknownKeys(option, OPTION_KEYS, at);
                String name = string(option, "name", at + ".", true);
                if (name != null && !OPTION_NAME.matcher(name).matches()) {
                    problem(at + ".name", "option name '" + name + "' may hold only letters, digits, '_', '.' and '-'");
                } else if (name != null && !names.add(name)) {
                    problem(at + ".name", "option '" + name + "' is declared twice");
                } else if (name != null) {
                    String variable = dev.tandem.runtime.text.Expansion.variable(name);
                    String clash = variables.putIfAbsent(variable, name);
                    if (clash != null) {
                        problem(at + ".name", "options '" + clash + "' and '" + name + "' would both be exported as " + variable + "; rename one");
                    }
                }
                for (String flag : List.of("enforced", "required", "multivalued", "secure", "valueExposed", "hidden", "sortValues", "isDate")) {
                    bool(option, flag, at + ".");
                }
                Object values = option.get("values");
                if (values != null && !(values instanceof List<?>) && !(values instanceof String)) {
                    problem(at + ".values", "'values' must be a list or a comma-separated string");
                }
                String regex = string(option, "regex", at + ".", false);
                if (regex != null) {
                    try {
                        Pattern.compile(regex);
                    } catch (PatternSyntaxException e) {
                        problem(at + ".regex", "option '" + name + "' has an invalid regex: " + e.getDescription());
                    }
                }
                if (Boolean.TRUE.equals(JobDocuments.flag(option.get("multivalued"))) && option.get("delimiter") == null) {
                    problem(at + ".delimiter", "a multivalued option needs a 'delimiter'");
                }
            }
        }

        private void schedule(Object value) {
            if (value == null) {
                return;
            }
            Map<String, Object> schedule = map(value, "schedule");
            if (schedule == null) {
                return;
            }
            unknownKeys(schedule, SCHEDULE_KEYS, "schedule");
            String expression;
            try {
                expression = JobDocuments.quartzExpression(schedule);
            } catch (IllegalArgumentException e) {
                problem("schedule", e.getMessage());
                return;
            }
            try {
                QUARTZ.parse(expression).validate();
            } catch (IllegalArgumentException e) {
                problem(schedule.containsKey("crontab") ? "schedule.crontab" : "schedule",
                        "invalid schedule '" + expression + "' (Quartz cron: seconds minutes hours day-of-month month day-of-week [year]): " + e.getMessage());
            }
        }

        private void nodefilters(Object value) {
            if (value == null) {
                return;
            }
            Map<String, Object> filters = map(value, "nodefilters");
            if (filters == null) {
                return;
            }
            unknownKeys(filters, NODEFILTER_KEYS, "nodefilters");
            string(filters, "filter", "nodefilters.", false);
            string(filters, "excludeFilter", "nodefilters.", false);
            if (filters.get("dispatch") != null) {
                Map<String, Object> dispatch = map(filters.get("dispatch"), "nodefilters.dispatch");
                if (dispatch != null) {
                    unknownKeys(dispatch, DISPATCH_KEYS, "nodefilters.dispatch");
                    Object threads = dispatch.get("threadcount");
                    if (threads != null && !threads.toString().matches("[1-9]\\d{0,3}|\\$\\{option\\.[A-Za-z0-9_.\\-]+}")) {
                        problem("nodefilters.dispatch.threadcount", "threadcount must be a positive number, not '" + threads + "'");
                    }
                    Object order = dispatch.get("rankOrder");
                    if (order != null && !Set.of("ascending", "descending").contains(order.toString())) {
                        problem("nodefilters.dispatch.rankOrder", "rankOrder must be ascending or descending, not '" + order + "'");
                    }
                }
            }
            for (String key : List.of("filter", "excludeFilter")) {
                Object text = filters.get(key);
                // A filter that refers to options is checked when the run expands it.
                if (text != null && !text.toString().contains("${")) {
                    try {
                        dev.tandem.runtime.nodes.NodeFilter.parse(text.toString());
                    } catch (dev.tandem.runtime.nodes.NodeFilter.FilterException e) {
                        problem("nodefilters." + key, "malformed node filter '" + text + "': " + e.getMessage());
                    }
                }
            }
        }

        private void timeout(Object value) {
            if (value == null) {
                return;
            }
            String text = value.toString();
            if (OPTION_REF.matcher(text.trim()).matches()) {
                return;
            }
            try {
                RundeckDuration.parse(text);
            } catch (IllegalArgumentException e) {
                problem("timeout", "bad timeout: " + e.getMessage());
            }
        }

        private void retry(Object value) {
            if (value == null) {
                return;
            }
            Object count = value;
            if (value instanceof Map<?, ?> map) {
                count = map.get("retry");
                Object delay = map.get("delay");
                if (delay != null && !OPTION_REF.matcher(delay.toString()).matches()) {
                    try {
                        RundeckDuration.parse(delay.toString());
                    } catch (IllegalArgumentException e) {
                        problem("retry.delay", "bad retry delay: " + e.getMessage());
                    }
                }
            }
            if (count == null || !(count.toString().matches("\\d{1,4}") || OPTION_REF.matcher(count.toString()).matches())) {
                problem(value instanceof Map<?, ?> ? "retry.retry" : "retry", "retry must be a number of attempts (or ${option.name}), not '" + count + "'");
            }
        }

        private void loglimit(Map<String, Object> job) {
            Object limit = job.get("loglimit");
            if (limit != null && !LOGLIMIT.matcher(limit.toString()).matches()) {
                problem("loglimit", "loglimit is a line count (100), a line count per node (100/node) or a size (10MB, 500KB), not '" + limit + "'");
            }
            Object action = job.get("loglimitAction");
            if (action != null && !Set.of("halt", "truncate").contains(action.toString())) {
                problem("loglimitAction", "loglimitAction must be halt or truncate, not '" + action + "'");
            }
        }

        private void nonBlank(Map<String, Object> step, String key, String at) {
            Object value = step.get(key);
            if (!(value instanceof String s) || s.isBlank()) {
                problem(at + "." + key, "'" + key + "' must be a non-empty text");
            }
        }

        private String string(Map<String, Object> map, String key, String prefix, boolean required) {
            Object value = map.get(key);
            if (value == null) {
                if (required) {
                    problem(prefix + key, "'" + key + "' is required");
                }
                return null;
            }
            if (value instanceof Map<?, ?> || value instanceof List<?>) {
                problem(prefix + key, "'" + key + "' must be a plain value, not a " + (value instanceof Map<?, ?> ? "map" : "list"));
                return null;
            }
            return value.toString();
        }

        private void bool(Map<String, Object> map, String key, String prefix) {
            Object value = map.get(key);
            if (value != null && JobDocuments.flag(value) == null) {
                problem(prefix + key, "'" + key + "' must be true or false, not '" + value + "'");
            }
        }

        @SuppressWarnings("unchecked")
        private Map<String, Object> map(Object value, String at) {
            if (value instanceof Map<?, ?> map) {
                return (Map<String, Object>) map;
            }
            problem(at, "expected a map of keys here, found " + (value == null ? "nothing" : value instanceof List<?> ? "a list" : "'" + value + "'"));
            return null;
        }

        private void unknownKeys(Map<String, Object> map, Set<String> known, String at) {
            for (String key : map.keySet()) {
                if (!known.contains(key)) {
                    warnings.add("unknown key '" + key + "' in " + at + " (" + tree.lineOf(path(at + "." + key)) + ") is kept but has no effect");
                }
            }
        }

        void problem(String at, String message) {
            String where = label + (at.isEmpty() ? "" : " " + at) + " (" + tree.lineOf(path(at)) + ")";
            problems.add(new ImportProblem(message, where));
        }

        private String path(String at) {
            if (at.isEmpty()) {
                return base;
            }
            return base.isEmpty() ? at : base + "." + at;
        }

        private static List<String> sorted(Set<String> values) {
            return values.stream().sorted().toList();
        }
    }
}
