/*
 * hostkeys.c - see hostkeys.h.
 */
#include "hostkeys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

struct hostkey_kind {
	const char *file;
	enum ssh_keytypes_e type;
	int bits; /* 0: fixed by the type */
	const char *label;
};

static const struct hostkey_kind kinds[] = {
    {"ssh_host_ed25519_key", SSH_KEYTYPE_ED25519, 0, "ED25519"},
    {"ssh_host_rsa_key", SSH_KEYTYPE_RSA, GG_HOSTKEY_RSA_BITS, "RSA"},
};

#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

/* Write the public half next to the key, as ssh-keygen does, for operators. */
static int write_pubkey(const ssh_key key, const char *path, const char *type)
{
	char *b64 = NULL, *pub = NULL;
	FILE *f = NULL;
	int rc = -1;

	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		goto done;
	pub = gg_strdup_printf("%s.pub", path);
	if (pub == NULL)
		goto done;
	f = fopen(pub, "w");
	if (f == NULL)
		goto done;
	if (fprintf(f, "%s %s gitgate\n", type, b64) < 0)
		goto done;
	rc = 0;
done:
	if (f && fclose(f) != 0)
		rc = -1;
	free(pub);
	ssh_string_free_char(b64);
	return rc;
}

/* Generate kind into path unless a key is already there. */
static int ensure_key(const struct hostkey_kind *kind, const char *path, char *err, size_t errlen)
{
	ssh_key key = NULL;
	char *tmp = NULL;
	mode_t old_umask;
	int rc = -1;

	if (access(path, F_OK) == 0)
		return 0;
	if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	tmp = gg_strdup_printf("%s.tmp.%d", path, (int)getpid());
	if (tmp == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (ssh_pki_generate(kind->type, kind->bits, &key) != SSH_OK) {
		snprintf(err, errlen, "cannot generate a %s host key", kind->label);
		goto done;
	}
	old_umask = umask(077);
	rc = ssh_pki_export_privkey_file(key, NULL, NULL, NULL, tmp);
	umask(old_umask);
	if (rc != SSH_OK || chmod(tmp, 0600) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		rc = -1;
		goto done;
	}
	if (write_pubkey(key, path, ssh_key_type_to_char(kind->type)) != 0)
		gg_warn("cannot write %s.pub", path);
	gg_info("generated %s host key %s", kind->label, path);
	rc = 0;
done:
	ssh_key_free(key);
	free(tmp);
	return rc;
}

/* Generates what is missing and calls fn for each key path. */
static int for_each_key(const char *dir, char *err, size_t errlen,
			int (*fn)(void *ctx, const struct hostkey_kind *kind, const char *path),
			void *ctx)
{
	int rc = 0;

	if (dir == NULL || dir[0] == '\0') {
		snprintf(err, errlen, "no host key directory configured");
		return -1;
	}
	if (gg_mkdir_p(dir, 0700) != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < N_KINDS && rc == 0; i++) {
		char *path = gg_strdup_printf("%s/%s", dir, kinds[i].file);

		if (path == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		rc = ensure_key(&kinds[i], path, err, errlen);
		if (rc == 0 && fn(ctx, &kinds[i], path) != 0) {
			snprintf(err, errlen, "cannot load host key %s", path);
			rc = -1;
		}
		free(path);
	}
	return rc;
}

static int load_into_bind(void *ctx, const struct hostkey_kind *kind, const char *path)
{
	ssh_bind bind = ctx;

	(void)kind;
	return ssh_bind_options_set(bind, SSH_BIND_OPTIONS_HOSTKEY, path) == 0 ? 0 : -1;
}

int gg_hostkeys_setup(ssh_bind bind, const char *dir, char *err, size_t errlen)
{
	return for_each_key(dir, err, errlen, load_into_bind, bind);
}

static int print_one(void *ctx, const struct hostkey_kind *kind, const char *path)
{
	FILE *out = ctx;
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp = NULL;
	int rc = -1;

	if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) != SSH_OK)
		goto done;
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0)
		goto done;
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	if (fp == NULL)
		goto done;
	fprintf(out, "%s %s (%s)\n", fp, path, kind->label);
	rc = 0;
done:
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
	return rc;
}

int gg_hostkeys_print(FILE *out, const char *dir, char *err, size_t errlen)
{
	return for_each_key(dir, err, errlen, print_one, out);
}
