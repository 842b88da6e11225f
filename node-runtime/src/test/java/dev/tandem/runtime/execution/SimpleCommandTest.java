package dev.tandem.runtime.execution;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.kernel.testing.Machine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which command lines start as their program, and which need the shell to mean what they say. */
class SimpleCommandTest {
    static final String PATH = "/usr/local/bin:/usr/bin:/bin";

    @Test
    void plainWordsStartTheProgramTheShellWouldHaveFound() {
        assertThat(SimpleCommand.argv("/bin/true", PATH)).contains(List.of("/bin/true"));
        assertThat(SimpleCommand.argv("  printenv   HOME ", PATH)).as("the name as typed: what the program's messages print")
                .contains(List.of("printenv", "HOME"));
        assertThat(SimpleCommand.argv("/usr/bin/env -u X=1 a.b,c:d+e@f%g", PATH))
                .contains(List.of("/usr/bin/env", "-u", "X=1", "a.b,c:d+e@f%g"));
    }

    @Test
    void anythingTheShellWouldReadGoesToTheShell() {
        for (String line : List.of("echo hello", "true", "cd /tmp", "exit 3", "printenv $HOME", "ls *", "ls ~", "printenv 'HOME'",
                "printenv \"HOME\"", "a && b", "printenv HOME > out", "printenv HOME; ls", "printenv HOME | cat", "A=1 printenv A",
                "printenv\tHOME", "printenv HOME # comment", "ls {a,b}", "./local-script", "bin/tool", "no-such-program-tandem", "",
                "printenv a\\ b", "sleep 1 &", "(ls)", "`ls`", "/bin/true/", "/bin/true\r", "\tprintenv HOME", "chdir /tmp")) {
            assertThat(SimpleCommand.argv(line, PATH)).as(line).isEmpty();
        }
    }

    @Test
    void aScriptWithoutShebangIsLeftToTheShellWhichRunsItAsAShellScript() throws Exception {
        Path dir = Machine.tempDir("simple-command");
        Path plain = Files.writeString(dir.resolve("plain"), "echo plain\n");
        Path shebang = Files.writeString(dir.resolve("shebang"), "#!/bin/sh\necho shebang\n");
        Path unexecutable = Files.writeString(dir.resolve("unexecutable"), "#!/bin/sh\n");
        for (Path file : List.of(plain, shebang)) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
        }
        assertThat(SimpleCommand.argv(plain.toString(), PATH)).isEmpty();
        assertThat(SimpleCommand.argv(unexecutable.toString(), PATH)).isEmpty();
        assertThat(SimpleCommand.argv(shebang + " arg", PATH)).contains(List.of(shebang.toString(), "arg"));
        assertThat(SimpleCommand.argv("shebang arg", dir + ":" + PATH)).as("found on PATH").contains(List.of("shebang", "arg"));
        assertThat(SimpleCommand.argv("printenv", ":" + PATH)).as("an empty PATH entry is the work folder").isEmpty();
    }
}
