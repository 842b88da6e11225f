package dev.tandem.runtime.testing;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;

/**
 * Clears every {@code dw.*} system property when a test class ends. Dropwizard's config overrides
 * live in system properties, and with several runtimes in one class each saves the previous one's
 * value as "original" and restores it when stopping, so overrides of one class (an S3 log store,
 * a database URL) would leak into the next class's runtimes and commands.
 */
public final class ClearConfigOverrides implements TestExecutionListener {
    @Override
    public void executionFinished(TestIdentifier identifier, TestExecutionResult result) {
        if (identifier.isContainer() && identifier.getSource().filter(s -> s instanceof org.junit.platform.engine.support.descriptor.ClassSource).isPresent()) {
            System.getProperties().stringPropertyNames().stream().filter(key -> key.startsWith("dw.")).forEach(System::clearProperty);
        }
    }
}
