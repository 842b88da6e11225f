package dev.tandem.runtime.keys;

/** Key storage needs a master key and none is configured. */
public final class KeyStorageUnavailableException extends RuntimeException {
    public KeyStorageUnavailableException() {
        super("key storage is disabled: no master key is configured (keys.masterKeys, e.g. TANDEM_MASTER_KEY)");
    }
}
