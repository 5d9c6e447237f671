/*
 * password.h - password hashing for web sign-in and the console.
 *
 * Passwords are stored only as argon2id hashes in the PHC string format
 * ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>"), the parameters OWASP
 * recommends for argon2id.  The encoded string carries its own parameters, so
 * hashes made with other parameters keep verifying if these ever change.
 */
#ifndef GG_PASSWORD_H
#define GG_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

/* Enough for every encoded hash gg_password_hash() produces. */
#define GG_PASSWORD_HASH_MAX 128

/* Hash pw with a fresh random salt into out.  0, or -1 (outlen too small,
 * out of memory, no randomness). */
int gg_password_hash(const char *pw, char *out, size_t outlen);

/* True when pw matches the encoded hash; false for a mismatch, a NULL or an
 * unparsable encoded hash. */
bool gg_password_verify(const char *encoded, const char *pw);

#endif
