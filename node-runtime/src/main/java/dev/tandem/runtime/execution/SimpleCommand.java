package dev.tandem.runtime.execution;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A command line that {@code /bin/sh -c} would run as one program with the line's words as its
 * arguments, started without the shell. Every exec costs about a millisecond on a small host, and
 * a step that runs {@code /usr/bin/rsync -a src dst} should not pay for a shell it does not use.
 * A line qualifies only when the shell could do nothing with it but split it on spaces: no
 * quoting, variable, glob, tilde, comment, redirection, operator or assignment; a first word that
 * is no builtin or keyword and names an executable file (absolute, or found on the step's
 * {@code PATH}) that is a binary or starts with {@code #!}. Anything else runs through the shell
 * exactly as before, so what a command line means never changes.
 */
final class SimpleCommand {
    private static final Pattern WORD = Pattern.compile("[A-Za-z0-9_./,:+@%=-]+");
    /** dash's and bash's builtins and reserved words: the shell runs these itself, not a program of that name. */
    private static final Set<String> SHELL_OWN = Set.of(".", ":", "[", "[[", "!", "{", "}", "alias", "bg", "break", "builtin", "case",
            "cd", "command", "continue", "declare", "do", "done", "echo", "elif", "else", "esac", "eval", "exec", "exit", "export",
            "false", "fc", "fg", "fi", "for", "function", "getopts", "hash", "if", "in", "jobs", "kill", "let", "local", "printf",
            "pwd", "read", "readonly", "return", "select", "set", "shift", "source", "test", "then", "time", "times", "trap", "true",
            "type", "typeset", "ulimit", "umask", "unalias", "unset", "until", "wait", "while", "chdir");

    private SimpleCommand() {}

    /** The program and arguments to start for {@code line}, or empty when it needs the shell. */
    static Optional<List<String>> argv(String line, String searchPath) {
        String trimmed = line.replaceAll("^ +| +$", ""); // spaces only: any other blank goes to the shell
        if (trimmed.isEmpty()) {
            return Optional.empty();
        }
        List<String> words = Arrays.asList(trimmed.split(" +"));
        if (!words.stream().allMatch(word -> WORD.matcher(word).matches())) {
            return Optional.empty();
        }
        String first = words.get(0);
        if (first.contains("=") || first.endsWith("/") || SHELL_OWN.contains(first)) {
            return Optional.empty();
        }
        boolean found = first.startsWith("/") ? startable(Path.of(first))
                : !first.contains("/") && onPath(first, searchPath); // relative to the work folder: left to the shell
        // The word itself stays the program's name (argv[0], what its messages print); setsid finds
        // it on the same PATH the check above searched.
        return found ? Optional.of(List.copyOf(words)) : Optional.empty();
    }

    private static boolean onPath(String name, String searchPath) {
        if (searchPath == null) {
            return false;
        }
        for (String dir : searchPath.split(":", -1)) {
            if (!dir.startsWith("/")) {
                return false; // an empty or relative PATH entry means the work folder: left to the shell
            }
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return startable(candidate);
            }
        }
        return false;
    }

    /**
     * An executable file the kernel can start itself: ELF, or a script with {@code #!}. The shell
     * runs a script without that line as a shell script, which a direct start would refuse.
     */
    private static boolean startable(Path file) {
        if (!Files.isRegularFile(file) || !Files.isExecutable(file)) {
            return false;
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(4);
            boolean elf = head.length == 4 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F';
            boolean shebang = head.length >= 2 && head[0] == '#' && head[1] == '!';
            return elf || shebang;
        } catch (IOException e) {
            return false; // unreadable (execute-only): the shell knows what to do with it
        }
    }
}
