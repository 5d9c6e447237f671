/*
 * sshkey.h - SSH public keys as users paste them.
 *
 * A key is accepted only when its base64 decodes to a well-formed OpenSSH
 * public key blob of a known type whose embedded type name matches the one
 * given: a key is later found by its fingerprint alone, so a blob that does
 * not say what it is must never get into the store.  The fingerprint is the
 * one `ssh-keygen -lf` prints: "SHA256:" and the unpadded base64 of the
 * SHA-256 of the decoded blob.
 */
#ifndef GG_SSHKEY_H
#define GG_SSHKEY_H

#include <stddef.h>

#define GG_SSHKEY_TYPE_MAX    64
#define GG_SSHKEY_BLOB_MAX    8192 /* base64 characters, like GG_KEY_BLOB_MAX */
#define GG_SSHKEY_COMMENT_MAX 256
#define GG_SSHKEY_FP_MAX      64 /* "SHA256:" + 43 characters + NUL */

struct gg_sshkey {
	char type[GG_SSHKEY_TYPE_MAX];	     /* "ssh-ed25519", ... */
	char blob[GG_SSHKEY_BLOB_MAX];	     /* base64, as in authorized_keys */
	char comment[GG_SSHKEY_COMMENT_MAX]; /* "" when none */
	char fingerprint[GG_SSHKEY_FP_MAX];  /* "SHA256:..." */
};

/*
 * Parse and validate a key.  With type NULL, text is an authorized_keys line
 * "type base64 [comment]" (surrounding whitespace ignored), or a bare base64
 * blob whose embedded type is then used.  With type given, text is the base64
 * blob alone (what `AuthorizedKeysCommand %t %k` passes).  Options before the
 * type (command="...") are not accepted.  0, or -1 with a message in err.
 */
int gg_sshkey_parse(struct gg_sshkey *out, const char *type, const char *text, char *err,
		    size_t errlen);

/* Fingerprint of a base64 blob without further checks (for lookups).
 * 0, or -1 when it is not base64. */
int gg_sshkey_fingerprint(const char *base64_blob, char out[GG_SSHKEY_FP_MAX]);

/* 1 when type is one gitgate accepts, else 0. */
int gg_sshkey_type_known(const char *type);

#endif
