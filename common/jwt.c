/*
 * jwt.c - signing and verifying the internal API's JWT with libjwt (gg_jwt.h).
 *
 * libjwt checks the structure and the HS256 signature; the claims (issuer,
 * expiry, issue time) are checked here, because libjwt 1.10 does not.
 */
#include "gg_jwt.h"

#include <errno.h>
#include <jwt.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int gg_jwt_sign_shell_at(const char *secret, int64_t iat, char **out)
{
	jwt_t *jwt = NULL;
	int rc = GG_JWT_ENOMEM;

	*out = NULL;
	if (!secret || !*secret)
		return GG_JWT_EMISSING;
	if (jwt_new(&jwt) != 0)
		return GG_JWT_ENOMEM;
	if (jwt_add_grant(jwt, "iss", GG_JWT_ISSUER) != 0 ||
	    jwt_add_grant_int(jwt, "iat", (long)iat) != 0 ||
	    jwt_add_grant_int(jwt, "exp", (long)(iat + GG_JWT_LIFETIME)) != 0 ||
	    jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret)) !=
		0)
		goto done;
	*out = jwt_encode_str(jwt);
	if (*out)
		rc = GG_JWT_OK;
done:
	jwt_free(jwt);
	return rc;
}

int gg_jwt_sign_shell(const char *secret, char **out)
{
	return gg_jwt_sign_shell_at(secret, gg_now(), out);
}

/* Why did a verifying decode fail: the token's shape or its signature? */
static int classify_decode_failure(const char *token)
{
	jwt_t *jwt = NULL;
	int rc;

	if (jwt_decode(&jwt, token, NULL, 0) != 0)
		rc = GG_JWT_EMALFORMED;
	else
		rc = GG_JWT_ESIGNATURE;
	jwt_free(jwt);
	return rc;
}

static int claim_int(jwt_t *jwt, const char *name, int64_t *out)
{
	long v;

	errno = 0;
	v = jwt_get_grant_int(jwt, name);
	if (errno != 0)
		return -1;
	*out = (int64_t)v;
	return 0;
}

/*
 * The last token this thread verified, with its secret and claims.  Callers
 * sign with a one-second iat, so under load most requests carry a token seen
 * a moment ago: the same bytes under the same secret verify the same way, so
 * only the time checks need repeating.  Comparisons are constant-time, so
 * the cache tells nothing about the token it holds.
 */
#define CACHE_TOKEN_MAX	 1024
#define CACHE_SECRET_MAX 256

static _Thread_local struct {
	char token[CACHE_TOKEN_MAX];
	char secret[CACHE_SECRET_MAX];
	int64_t iat, exp;
} verified;

static int check_times(int64_t iat, int64_t exp, int64_t now)
{
	if (now > exp + GG_JWT_LEEWAY)
		return GG_JWT_EEXPIRED;
	if (iat > now + GG_JWT_LEEWAY)
		return GG_JWT_EFUTURE;
	return GG_JWT_OK;
}

static void remember(const char *token, const char *secret, int64_t iat, int64_t exp)
{
	size_t tlen = strlen(token), slen = strlen(secret);

	if (tlen >= CACHE_TOKEN_MAX || slen >= CACHE_SECRET_MAX)
		return;
	memcpy(verified.token, token, tlen + 1);
	memcpy(verified.secret, secret, slen + 1);
	verified.iat = iat;
	verified.exp = exp;
}

int gg_jwt_verify_shell(const char *token, const char *secret, int64_t now)
{
	jwt_t *jwt = NULL;
	const char *iss;
	int64_t iat, exp;
	int rc;

	if (!token || !*token)
		return GG_JWT_EMISSING;
	/* An empty key would make libjwt skip the signature check altogether. */
	if (!secret || !*secret)
		return GG_JWT_ESIGNATURE;
	if (verified.token[0] && gg_str_equal_ct(token, verified.token) &&
	    gg_str_equal_ct(secret, verified.secret))
		return check_times(verified.iat, verified.exp, now);
	if (jwt_decode(&jwt, token, (const unsigned char *)secret, (int)strlen(secret)) != 0) {
		rc = classify_decode_failure(token);
		goto done;
	}
	if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
		rc = GG_JWT_ESIGNATURE;
		goto done;
	}
	iss = jwt_get_grant(jwt, "iss");
	if (!iss || strcmp(iss, GG_JWT_ISSUER) != 0) {
		rc = GG_JWT_EISSUER;
		goto done;
	}
	if (claim_int(jwt, "iat", &iat) < 0 || claim_int(jwt, "exp", &exp) < 0) {
		rc = GG_JWT_EMALFORMED;
		goto done;
	}
	/* Remembered before the time checks: they are redone on every use. */
	remember(token, secret, iat, exp);
	rc = check_times(iat, exp, now);
done:
	jwt_free(jwt);
	return rc;
}

const char *gg_jwt_strerror(int code)
{
	switch (code) {
	case GG_JWT_OK:
		return "ok";
	case GG_JWT_EMISSING:
		return "token missing";
	case GG_JWT_EMALFORMED:
		return "token malformed";
	case GG_JWT_ESIGNATURE:
		return "bad signature";
	case GG_JWT_EISSUER:
		return "wrong issuer";
	case GG_JWT_EEXPIRED:
		return "token expired";
	case GG_JWT_EFUTURE:
		return "token issued in the future";
	case GG_JWT_ENOMEM:
		return "out of memory";
	}
	return "unknown error";
}
