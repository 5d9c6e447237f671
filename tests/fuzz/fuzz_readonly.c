/*
 * fuzz_readonly.c - the maintenance-mode allowlist matcher
 * (internal-api/readonly.h).
 *
 * The input is "method NUL path" (no NUL: the whole input is the path and
 * the method is POST).  A normalised path must be absolute, NUL-terminated
 * within the buffer, and free of '.' and '..' segments; a path that cannot
 * be normalised must never be allowed for a writing method.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "readonly.h"

static void check_normalised(const char *norm, size_t outlen)
{
	size_t len = strnlen(norm, outlen);

	assert(len < outlen);
	assert(norm[0] == '/');
	assert(strstr(norm, "/../") == NULL && strstr(norm, "/./") == NULL);
	assert(strstr(norm, "//") == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	char *method, *path;
	char norm[4096], small[16];
	bool allowed;
	int rc;

	if (nul) {
		method = strndup((const char *)data, (size_t)(nul - data));
		path = strndup((const char *)nul + 1, size - (size_t)(nul - data) - 1);
	} else {
		method = strdup("POST");
		path = strndup((const char *)data, size);
	}
	if (!method || !path)
		goto done;

	rc = gg_readonly_normalise(path, norm, sizeof(norm));
	if (rc == 0)
		check_normalised(norm, sizeof(norm));
	if (gg_readonly_normalise(path, small, sizeof(small)) == 0)
		check_normalised(small, sizeof(small));

	allowed = gg_readonly_allowed(method, path);
	if (rc != 0 && strlen(path) < sizeof(norm) - 1 && strcasecmp(method, "GET") != 0 &&
	    strcasecmp(method, "HEAD") != 0 && strcasecmp(method, "OPTIONS") != 0)
		assert(!allowed);
done:
	free(method);
	free(path);
	return 0;
}
