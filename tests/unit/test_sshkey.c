/*
 * test_sshkey.c - SSH public key parsing and fingerprints (common/sshkey.c).
 *
 * The expected fingerprints were computed once with `ssh-keygen -lf` on the
 * key lines below; a difference means gitgate would not find a key that
 * OpenSSH presents.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sshkey.h"

#define ED25519_B64  "AAAAC3NzaC1lZDI1NTE5AAAAIIcOjYy+RAXi0r8DJ4VIoGKTfazmil8bZIADK4+ZvQ3O"
#define ED25519_LINE "ssh-ed25519 " ED25519_B64 " alice@example"
#define ED25519_FP   "SHA256:8dLNuNZeEx7bsxDeiz9Ecq99PecYz3ei7P6FrxGou6U"

#define RSA_B64                                                                                    \
	"AAAAB3NzaC1yc2EAAAADAQABAAABAQCzG7o0eV0klDqGQCy3nX+"                                      \
	"Ofg6FvnZGJ9MBxtT23RwIxRUUxEF8BvalZKxab0"                                                  \
	"MHPEwJgSmaeW4l+"                                                                          \
	"sBIAlkvnHQ221ZC9PkmhRWCoqSzXQlakC7DGcoR9iIotx3AWVUU1Ba7wYDdhPeS93Wotg5lJGlj"              \
	"CvSBVjGaaewDLxO6aNJlrWq/+NRbC1jkmRP9I3IqKgRddzplGAVH/"                                    \
	"kSpwXYDNtvKuoGV1iFfGOvh2r1S1gSpWCYbj1"                                                    \
	"QsDvI+ZymOJps9rV1gbgE4ZZ9aGXa9N659wUFia5nzMwOzhBpcMABnp1wzTHQCnaNOrobPK/"                 \
	"gszNQIdmshI8SnM5ZP"                                                                       \
	"1Sl36t2e1rJb"
#define RSA_LINE "ssh-rsa " RSA_B64 " bob@example"
#define RSA_FP	 "SHA256:MWE8SW4ssGqCtb9H9afd6hoMvqZxS6XoAEtF3H1Aj+Q"

#define ECDSA256_LINE                                                                              \
	"ecdsa-sha2-nistp256 "                                                                     \
	"AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBJntUHCQ16NOxPL6D"                    \
	"WIOyHh9+0mzSnN6EkY8WyZGdSPAbea/SG0+BlCIptcf/uPAkPuVLZK4H4dQKSxX3HAGVs4= ec"
#define ECDSA256_FP "SHA256:ryicIzcAujo4TTTyRIVr5wht9X2OCGNYCvIf/7GiIzk"

#define ECDSA521_LINE                                                                              \
	"ecdsa-sha2-nistp521 "                                                                     \
	"AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBADb9SVDj6YbtXQ2w"                    \
	"asAfUDcO0iKQm49Q3YtVG5Z+OBVXhakglCd1El6fDWC4bhSj0sxIbS3tQ/"                               \
	"6GiX1E+uIWdd4WAHPgXHfOzw3IlMOSH"                                                          \
	"T756BGsKGxjDdAlFEfaukBNX/2Sywl4CIIhWgHyPwP6HBC2MtVoFJlMavtvQdgLeBrl1Y8mA== ec521"
#define ECDSA521_FP "SHA256:EtW/Z/vbHOpkZLKZvDf/FIrxuQtUqS0n3d2RE/y2BXM"

#define SK_ED25519_LINE                                                                            \
	"sk-ssh-ed25519@openssh.com "                                                              \
	"AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIAABAgMEBQYHCAkKCw"                           \
	"wNDg8QERITFBUWFxgZGhscHR4fAAAABHNzaDo= sk"
#define SK_ED25519_FP "SHA256:/p0CbeE3dk2SyW1OXXsThGc12ezDVD8eGw2/vtztDfk"

static struct gg_sshkey key;
static char err[256];

static void test_ed25519_fingerprint_matches_ssh_keygen(void **state)
{
	(void)state;
	assert_int_equal(gg_sshkey_parse(&key, NULL, ED25519_LINE, err, sizeof(err)), 0);
	assert_string_equal(key.type, "ssh-ed25519");
	assert_string_equal(key.blob, ED25519_B64);
	assert_string_equal(key.comment, "alice@example");
	assert_string_equal(key.fingerprint, ED25519_FP);
}

static void test_rsa_fingerprint_matches_ssh_keygen(void **state)
{
	(void)state;
	assert_int_equal(gg_sshkey_parse(&key, NULL, RSA_LINE, err, sizeof(err)), 0);
	assert_string_equal(key.type, "ssh-rsa");
	assert_string_equal(key.comment, "bob@example");
	assert_string_equal(key.fingerprint, RSA_FP);
}

static void test_ecdsa_and_sk_fingerprints_match_ssh_keygen(void **state)
{
	(void)state;
	assert_int_equal(gg_sshkey_parse(&key, NULL, ECDSA256_LINE, err, sizeof(err)), 0);
	assert_string_equal(key.fingerprint, ECDSA256_FP);
	assert_int_equal(gg_sshkey_parse(&key, NULL, ECDSA521_LINE, err, sizeof(err)), 0);
	assert_string_equal(key.type, "ecdsa-sha2-nistp521");
	assert_string_equal(key.fingerprint, ECDSA521_FP);
	assert_int_equal(gg_sshkey_parse(&key, NULL, SK_ED25519_LINE, err, sizeof(err)), 0);
	assert_string_equal(key.type, "sk-ssh-ed25519@openssh.com");
	assert_string_equal(key.fingerprint, SK_ED25519_FP);
}

static void test_type_given_separately(void **state)
{
	(void)state;
	assert_int_equal(gg_sshkey_parse(&key, "ssh-ed25519", ED25519_B64, err, sizeof(err)), 0);
	assert_string_equal(key.fingerprint, ED25519_FP);
	assert_string_equal(key.comment, "");
	/* a bare blob names its own type */
	assert_int_equal(gg_sshkey_parse(&key, NULL, "  " RSA_B64 "\n", err, sizeof(err)), 0);
	assert_string_equal(key.type, "ssh-rsa");
	assert_string_equal(key.fingerprint, RSA_FP);
}

static void test_fingerprint_of_blob(void **state)
{
	char fp[GG_SSHKEY_FP_MAX];

	(void)state;
	assert_int_equal(gg_sshkey_fingerprint(ED25519_B64, fp), 0);
	assert_string_equal(fp, ED25519_FP);
	assert_int_equal(gg_sshkey_fingerprint("not base64!", fp), -1);
	assert_int_equal(gg_sshkey_fingerprint("", fp), -1);
}

static void test_surrounding_whitespace_and_long_comment(void **state)
{
	(void)state;
	assert_int_equal(
	    gg_sshkey_parse(&key, NULL, "\t " ED25519_LINE " extra words \r\n", err, sizeof(err)),
	    0);
	assert_string_equal(key.comment, "alice@example extra words");
	assert_string_equal(key.fingerprint, ED25519_FP);
}

static void expect_refused(const char *type, const char *text)
{
	err[0] = '\0';
	assert_int_equal(gg_sshkey_parse(&key, type, text, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
}

static void test_malformed_lines_refused(void **state)
{
	(void)state;
	expect_refused(NULL, NULL);
	expect_refused(NULL, "");
	expect_refused(NULL, "   \n");
	/* unknown type */
	expect_refused(NULL, "ssh-dss " ED25519_B64);
	expect_refused(NULL, "ssh-ed448 " ED25519_B64 " x");
	expect_refused("ssh-dss", ED25519_B64);
	/* declared type does not match the blob */
	expect_refused(NULL, "ssh-rsa " ED25519_B64 " mismatch");
	expect_refused("ecdsa-sha2-nistp256", RSA_B64);
	/* not base64, bad padding, truncated */
	expect_refused(NULL, "ssh-ed25519 AAAA$$$$ x");
	expect_refused(NULL,
		       "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIcOjYy+RAXi0r8DJ4VIoGKTfazmil8bZ");
	expect_refused(NULL, "ssh-ed25519 AA=A");
	expect_refused(NULL, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5");
	/* trailing bytes after the key */
	expect_refused(
	    NULL,
	    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIcOjYy+RAXi0r8DJ4VIoGKTfazmil8bZIADK4+ZvQ3OAAAA");
	/* a length that points past the end */
	expect_refused(NULL, "ssh-ed25519 /////w==");
	/* options in front are not accepted */
	expect_refused(NULL, "command=\"x\" " ED25519_LINE);
	/* text after a blob given with its type */
	expect_refused("ssh-ed25519", ED25519_B64 " comment");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ed25519_fingerprint_matches_ssh_keygen),
	    cmocka_unit_test(test_rsa_fingerprint_matches_ssh_keygen),
	    cmocka_unit_test(test_ecdsa_and_sk_fingerprints_match_ssh_keygen),
	    cmocka_unit_test(test_type_given_separately),
	    cmocka_unit_test(test_fingerprint_of_blob),
	    cmocka_unit_test(test_surrounding_whitespace_and_long_comment),
	    cmocka_unit_test(test_malformed_lines_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
