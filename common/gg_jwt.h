/*
 * gg_jwt.h - the JSON Web Token that authenticates gitlab-shell-style callers
 * of the internal API (SPEC §3).  (Not "jwt.h": that name is libjwt's, and
 * common/ is on every include path.)
 *
 * Every request to /api/v4/internal/... carries the header
 * Gitlab-Shell-Api-Request: (a JWT), an HS256 token over the shared secret with
 * the claims iss = "gitlab-shell", iat and exp = iat + 60.  The same secret
 * signs (sshd-gate, gate-shell, gate-hook through the API client) and
 * verifies (gate-api), so both sides live here.  Verification allows 60 s of
 * clock skew either way, as GitLab does.
 */
#ifndef GG_JWT_H
#define GG_JWT_H

#include <stdint.h>

#define GG_JWT_HEADER	"Gitlab-Shell-Api-Request"
#define GG_JWT_ISSUER	"gitlab-shell"
#define GG_JWT_LIFETIME 60 /* s, exp - iat */
#define GG_JWT_LEEWAY	60 /* s of clock skew accepted on exp and iat */

enum {
	GG_JWT_OK = 0,
	GG_JWT_EMISSING = -1,	/* no token (NULL or empty) */
	GG_JWT_EMALFORMED = -2, /* not a JWT, or iat/exp missing or not numbers */
	GG_JWT_ESIGNATURE = -3, /* not HS256, or signed with another secret */
	GG_JWT_EISSUER = -4,	/* iss is not "gitlab-shell" */
	GG_JWT_EEXPIRED = -5,	/* exp more than the leeway in the past */
	GG_JWT_EFUTURE = -6,	/* iat more than the leeway in the future */
	GG_JWT_ENOMEM = -7,
};

/* A fresh token for the secret, issued now.  *out is the caller's to free(). */
int gg_jwt_sign_shell(const char *secret, char **out);

/* Like gg_jwt_sign_shell, but issued at iat (for tests and benchmarks). */
int gg_jwt_sign_shell_at(const char *secret, int64_t iat, char **out);

/* Verify token against secret at time now (seconds since the epoch).
 * GG_JWT_OK or one of the negative codes above. */
int gg_jwt_verify_shell(const char *token, const char *secret, int64_t now);

/* A short English description of a GG_JWT_* code, for logs. */
const char *gg_jwt_strerror(int code);

#endif
