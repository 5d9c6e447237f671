/*
 * fuzz_sshkey.c - SSH public keys as users paste them and as sshd passes
 * them (common/sshkey.h).
 *
 * Byte 0 picks the form: even, an authorized_keys line (type NULL);
 * odd, a bare blob with a type given, as AuthorizedKeysCommand %t %k passes
 * it.  An accepted key must have a known type, a SHA256 fingerprint and
 * NUL-terminated fields.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sshkey.h"

static const char *const types[] = {
    "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "sk-ssh-ed25519@openssh.com",
    "ssh-dss",	   "bogus"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gg_sshkey key;
	char err[256], fp[GG_SSHKEY_FP_MAX];
	const char *type = NULL;
	char *text;

	if (size < 1)
		return 0;
	if (data[0] & 1)
		type = types[(data[0] >> 1) % (sizeof(types) / sizeof(types[0]))];
	if (!(text = strndup((const char *)data + 1, size - 1)))
		return 0;
	err[0] = '\0';
	if (gg_sshkey_parse(&key, type, text, err, sizeof(err)) == 0) {
		assert(gg_sshkey_type_known(key.type));
		assert(memchr(key.blob, '\0', sizeof(key.blob)) != NULL);
		assert(memchr(key.comment, '\0', sizeof(key.comment)) != NULL);
		assert(strncmp(key.fingerprint, "SHA256:", 7) == 0);
		assert(gg_sshkey_fingerprint(key.blob, fp) == 0 &&
		       strcmp(fp, key.fingerprint) == 0);
	} else {
		assert(memchr(err, '\0', sizeof(err)) != NULL);
	}
	(void)gg_sshkey_fingerprint(text, fp);
	free(text);
	return 0;
}
