/*
 * password.c - argon2id hashing with libargon2 (see password.h).
 *
 * The cost is deliberate (about 20 MiB and a few tens of milliseconds per
 * call): it is paid at sign-in, never on the Git hot path.
 */
#include "password.h"

#include <argon2.h>
#include <string.h>

#include "util.h"

#define PW_T_COST      2
#define PW_M_COST      19456 /* KiB */
#define PW_PARALLELISM 1
#define PW_SALT_LEN    16
#define PW_HASH_LEN    32

int gg_password_hash(const char *pw, char *out, size_t outlen)
{
	unsigned char salt[PW_SALT_LEN];
	size_t need;
	int rc;

	if (!pw || !out)
		return -1;
	need = argon2_encodedlen(PW_T_COST, PW_M_COST, PW_PARALLELISM, PW_SALT_LEN, PW_HASH_LEN,
				 Argon2_id);
	if (outlen < need)
		return -1;
	if (gg_random_bytes(salt, sizeof(salt)) < 0)
		return -1;
	rc = argon2id_hash_encoded(PW_T_COST, PW_M_COST, PW_PARALLELISM, pw, strlen(pw), salt,
				   sizeof(salt), PW_HASH_LEN, out, outlen);
	return rc == ARGON2_OK ? 0 : -1;
}

bool gg_password_verify(const char *encoded, const char *pw)
{
	if (!encoded || !pw || strncmp(encoded, "$argon2id$", 10) != 0)
		return false;
	return argon2id_verify(encoded, pw, strlen(pw)) == ARGON2_OK;
}
