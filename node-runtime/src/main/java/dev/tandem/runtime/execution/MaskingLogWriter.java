package dev.tandem.runtime.execution;

import dev.tandem.runtime.logs.LogEntry;
import dev.tandem.runtime.logs.LogWriter;

/** Every line goes through the masker before it reaches log storage: secure values are never stored. */
final class MaskingLogWriter implements LogWriter {
    private final LogWriter target;
    private final SecretMasker masker;

    MaskingLogWriter(LogWriter target, SecretMasker masker) {
        this.target = target;
        this.masker = masker;
    }

    @Override
    public void append(LogEntry entry) {
        target.append(new LogEntry(entry.time(), entry.node(), entry.step(), entry.stream(), entry.level(), masker.mask(entry.log())));
    }

    @Override
    public void close() {
        target.close();
    }
}
