/*
 * test_jwt.c - the internal API's JWT (SPEC §3): what is accepted and why
 * everything else is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jwt.h>

#include "gg_jwt.h"
#include "util.h"

#define SECRET "0123456789abcdef0123456789abcdef"

/* A token with arbitrary claims, for the cases gg_jwt_sign_shell cannot make. */
static char *make_token(const char *alg_secret, jwt_alg_t alg, const char *iss, long iat, long exp)
{
	jwt_t *jwt = NULL;
	char *out;

	assert_int_equal(jwt_new(&jwt), 0);
	if (iss)
		assert_int_equal(jwt_add_grant(jwt, "iss", iss), 0);
	if (iat >= 0)
		assert_int_equal(jwt_add_grant_int(jwt, "iat", iat), 0);
	if (exp >= 0)
		assert_int_equal(jwt_add_grant_int(jwt, "exp", exp), 0);
	assert_int_equal(jwt_set_alg(jwt, alg, (const unsigned char *)alg_secret,
				     alg_secret ? (int)strlen(alg_secret) : 0),
			 0);
	out = jwt_encode_str(jwt);
	jwt_free(jwt);
	assert_non_null(out);
	return out;
}

static void test_valid_token_accepted(void **state)
{
	char *tok = NULL;

	assert_int_equal(gg_jwt_sign_shell(SECRET, &tok), GG_JWT_OK);
	assert_int_equal(gg_jwt_verify_shell(tok, SECRET, gg_now()), GG_JWT_OK);
	free(tok);
}

static void test_missing_token_refused(void **state)
{
	assert_int_equal(gg_jwt_verify_shell(NULL, SECRET, gg_now()), GG_JWT_EMISSING);
	assert_int_equal(gg_jwt_verify_shell("", SECRET, gg_now()), GG_JWT_EMISSING);
}

static void test_malformed_token_refused(void **state)
{
	int64_t now = gg_now();
	char *tok;

	assert_int_equal(gg_jwt_verify_shell("garbage", SECRET, now), GG_JWT_EMALFORMED);
	assert_int_equal(gg_jwt_verify_shell("a.b.c", SECRET, now), GG_JWT_EMALFORMED);
	/* Signed, but without exp. */
	tok = make_token(SECRET, JWT_ALG_HS256, "gitlab-shell", (long)now, -1);
	assert_int_equal(gg_jwt_verify_shell(tok, SECRET, now), GG_JWT_EMALFORMED);
	free(tok);
}

static void test_wrong_secret_refused(void **state)
{
	char *tok = NULL;

	assert_int_equal(gg_jwt_sign_shell("another secret", &tok), GG_JWT_OK);
	assert_int_equal(gg_jwt_verify_shell(tok, SECRET, gg_now()), GG_JWT_ESIGNATURE);
	assert_int_equal(gg_jwt_verify_shell(tok, "", gg_now()), GG_JWT_ESIGNATURE);
	free(tok);
}

static void test_unsigned_or_other_algorithm_refused(void **state)
{
	int64_t now = gg_now();
	char *tok = make_token(NULL, JWT_ALG_NONE, "gitlab-shell", (long)now, (long)now + 60);

	assert_int_equal(gg_jwt_verify_shell(tok, SECRET, now), GG_JWT_ESIGNATURE);
	free(tok);
	tok = make_token(SECRET, JWT_ALG_HS512, "gitlab-shell", (long)now, (long)now + 60);
	assert_int_equal(gg_jwt_verify_shell(tok, SECRET, now), GG_JWT_ESIGNATURE);
	free(tok);
}

static void test_wrong_issuer_refused(void **state)
{
	int64_t now = gg_now();
	char *tok =
	    make_token(SECRET, JWT_ALG_HS256, "gitlab-workhorse", (long)now, (long)now + 60);

	assert_int_equal(gg_jwt_verify_shell(tok, SECRET, now), GG_JWT_EISSUER);
	free(tok);
	tok = make_token(SECRET, JWT_ALG_HS256, NULL, (long)now, (long)now + 60);
	assert_int_equal(gg_jwt_verify_shell(tok, SECRET, now), GG_JWT_EISSUER);
	free(tok);
}

static void test_expired_token_refused_beyond_leeway(void **state)
{
	int64_t now = 1700000000;
	char *tok = NULL;

	/* exp = iat + 60; accepted until exp + 60 s of leeway. */
	assert_int_equal(gg_jwt_sign_shell_at(SECRET, now - 100, &tok), GG_JWT_OK);
	assert_int_equal(gg_jwt_verify_shell(tok, SECRET, now), GG_JWT_OK);
	free(tok);
	assert_int_equal(gg_jwt_sign_shell_at(SECRET, now - 120, &tok), GG_JWT_OK);
	assert_int_equal(gg_jwt_verify_shell(tok, SECRET, now), GG_JWT_OK);
	free(tok);
	assert_int_equal(gg_jwt_sign_shell_at(SECRET, now - 121, &tok), GG_JWT_OK);
	assert_int_equal(gg_jwt_verify_shell(tok, SECRET, now), GG_JWT_EEXPIRED);
	free(tok);
}

static void test_future_token_refused_beyond_leeway(void **state)
{
	int64_t now = 1700000000;
	char *tok = NULL;

	assert_int_equal(gg_jwt_sign_shell_at(SECRET, now + 60, &tok), GG_JWT_OK);
	assert_int_equal(gg_jwt_verify_shell(tok, SECRET, now), GG_JWT_OK);
	free(tok);
	assert_int_equal(gg_jwt_sign_shell_at(SECRET, now + 61, &tok), GG_JWT_OK);
	assert_int_equal(gg_jwt_verify_shell(tok, SECRET, now), GG_JWT_EFUTURE);
	free(tok);
}

static void test_sign_needs_secret(void **state)
{
	char *tok = (char *)1;

	assert_int_equal(gg_jwt_sign_shell("", &tok), GG_JWT_EMISSING);
	assert_null(tok);
	assert_string_equal(gg_jwt_strerror(GG_JWT_EEXPIRED), "token expired");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_token_accepted),
	    cmocka_unit_test(test_missing_token_refused),
	    cmocka_unit_test(test_malformed_token_refused),
	    cmocka_unit_test(test_wrong_secret_refused),
	    cmocka_unit_test(test_unsigned_or_other_algorithm_refused),
	    cmocka_unit_test(test_wrong_issuer_refused),
	    cmocka_unit_test(test_expired_token_refused_beyond_leeway),
	    cmocka_unit_test(test_future_token_refused_beyond_leeway),
	    cmocka_unit_test(test_sign_needs_secret),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
