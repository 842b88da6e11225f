package dev.tandem.runtime.api;

import dev.tandem.runtime.refusal.Refusal;

/**
 * What one request may send and store (configuration {@code api.*}); each refusal names its
 * setting so an operator knows what to raise.
 */
public record ApiLimits(long maxRequestBytes, long maxImportBytes, int maxOptionValueLength, int maxJobDefinitionLength,
                        int maxDescriptionLength, int maxScheduledFiresPerMinute) {

    /** @throws Refusal 422 naming the field, its length and the setting */
    public void checkDescription(String description, String where) {
        if (description != null && description.length() > maxDescriptionLength) {
            throw new Refusal(Refusal.Kind.INVALID, "the description is " + description.length() + " characters; the limit is "
                    + maxDescriptionLength + " (api.maxDescriptionLength)", where);
        }
    }
}
