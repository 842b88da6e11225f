package dev.tandem.runtime.auth;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PasswordHasherTest {
    final PasswordHasher hasher = new PasswordHasher();

    @Test
    void argon2idHashesVerifyOnlyTheRightPasswordAndAreSalted() {
        String hash = hasher.hash("s3cret!");
        assertThat(hash).startsWith("$argon2id$v=19$m=19456,t=2,p=1$").doesNotContain("s3cret");
        assertThat(hasher.verify("s3cret!", hash)).isTrue();
        assertThat(hasher.verify("s3cret", hash)).isFalse();
        assertThat(hasher.hash("s3cret!")).as("a new salt every time").isNotEqualTo(hash);
        assertThat(hasher.verify("s3cret!", null)).isFalse();
        assertThat(hasher.verify("s3cret!", "$2a$10$bcrypt-is-not-accepted")).isFalse();
    }

    @Test
    void tokensAreRandomAndStoredOnlyAsTheirHash() {
        Tokens tokens = new Tokens();
        String a = tokens.newToken();
        assertThat(a).startsWith("tdm_").hasSize(4 + 43);
        assertThat(tokens.newToken()).isNotEqualTo(a);
        assertThat(Tokens.hash(a)).hasSize(64).isEqualTo(Tokens.hash(a)).doesNotContain(a.substring(4));
    }
}
