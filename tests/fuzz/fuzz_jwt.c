/*
 * fuzz_jwt.c - verification of the internal API's JWT (common/gg_jwt.h).
 *
 * The token comes from whoever can reach gate-api.  It is verified against a
 * fixed secret at a fixed time, so a seed signed with that secret at
 * FUZZ_JWT_IAT verifies and the fuzzer can mutate from a valid token.  The
 * result must be one of the documented codes, and the empty secret must
 * never verify anything.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gg_jwt.h"

#define FUZZ_JWT_SECRET "fuzz-secret-0123456789abcdef"
#define FUZZ_JWT_IAT	1700000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *token = strndup((const char *)data, size);
	int rc;

	if (!token)
		return 0;
	rc = gg_jwt_verify_shell(token, FUZZ_JWT_SECRET, FUZZ_JWT_IAT + 10);
	assert(rc <= 0 && rc >= GG_JWT_ENOMEM);
	assert(gg_jwt_strerror(rc) != NULL);
	assert(gg_jwt_verify_shell(token, "", FUZZ_JWT_IAT + 10) != GG_JWT_OK);
	free(token);
	return 0;
}
