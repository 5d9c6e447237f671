/*
 * sshkey.c - parsing, validating and fingerprinting SSH public keys
 * (see sshkey.h).
 *
 * The decoded blob comes from a stranger, so it is read only through the
 * bounds-checked reader below, OpenSSH style: every field checked, the first
 * failure ends the parse.
 */
#include "sshkey.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The largest decoded blob: GG_SSHKEY_BLOB_MAX base64 characters. */
#define BLOB_BYTES_MAX (GG_SSHKEY_BLOB_MAX / 4 * 3)

enum key_shape { SHAPE_ED25519, SHAPE_SK_ED25519, SHAPE_RSA, SHAPE_ECDSA, SHAPE_SK_ECDSA };

static const struct key_type {
	const char *name;
	enum key_shape shape;
	const char *curve; /* ECDSA: the curve name inside the blob */
	size_t point_len;  /* ECDSA: uncompressed point length */
} key_types[] = {
    {"ssh-ed25519", SHAPE_ED25519, NULL, 0},
    {"ssh-rsa", SHAPE_RSA, NULL, 0},
    {"ecdsa-sha2-nistp256", SHAPE_ECDSA, "nistp256", 65},
    {"ecdsa-sha2-nistp384", SHAPE_ECDSA, "nistp384", 97},
    {"ecdsa-sha2-nistp521", SHAPE_ECDSA, "nistp521", 133},
    {"sk-ssh-ed25519@openssh.com", SHAPE_SK_ED25519, NULL, 0},
    {"sk-ecdsa-sha2-nistp256@openssh.com", SHAPE_SK_ECDSA, "nistp256", 65},
};

static const struct key_type *find_type(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(key_types) / sizeof(key_types[0]); i++)
		if (strlen(key_types[i].name) == len && memcmp(key_types[i].name, name, len) == 0)
			return &key_types[i];
	return NULL;
}

int gg_sshkey_type_known(const char *type)
{
	return type && find_type(type, strlen(type)) != NULL;
}

/*
 * Strict base64: a multiple of 4 characters of the standard alphabet, '='
 * only as the last one or two.  EVP_DecodeBlock() is lenient about
 * whitespace and counts padding as zero bytes, so both are dealt with here.
 * Returns the decoded length, or -1.
 */
static long decode_base64(const char *in, size_t len, unsigned char *out, size_t outcap)
{
	size_t pad = 0;
	int n;

	if (len == 0 || len % 4 != 0 || len / 4 * 3 > outcap)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '=') {
			if (i < len - 2)
				return -1;
			pad++;
		} else if (pad || !(isalnum(c) || c == '+' || c == '/')) {
			return -1;
		}
	}
	n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
	if (n < 0 || (size_t)n < pad)
		return -1;
	return (long)((size_t)n - pad);
}

static void fingerprint_of(const unsigned char *blob, size_t len, char out[GG_SSHKEY_FP_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	unsigned char b64[64];
	int n;

	EVP_Digest(blob, len, md, &mdlen, EVP_sha256(), NULL);
	n = EVP_EncodeBlock(b64, md, (int)mdlen);
	while (n > 0 && b64[n - 1] == '=')
		n--;
	snprintf(out, GG_SSHKEY_FP_MAX, "SHA256:%.*s", n, (const char *)b64);
}

int gg_sshkey_fingerprint(const char *base64_blob, char out[GG_SSHKEY_FP_MAX])
{
	unsigned char local[BLOB_BYTES_MAX];
	long n;

	out[0] = '\0';
	if (!base64_blob)
		return -1;
	n = decode_base64(base64_blob, strlen(base64_blob), local, sizeof(local));
	if (n <= 0)
		return -1;
	fingerprint_of(local, (size_t)n, out);
	return 0;
}

/* A bounds-checked reader over the decoded blob. */
struct reader {
	const unsigned char *p;
	size_t left;
};

static int read_string(struct reader *r, const unsigned char **s, size_t *len)
{
	uint32_t n;

	if (r->left < 4)
		return -1;
	n = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	if (n > r->left - 4)
		return -1;
	*s = r->p + 4;
	*len = n;
	r->p += 4 + n;
	r->left -= 4 + n;
	return 0;
}

static bool string_is(const unsigned char *s, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(s, want, len) == 0;
}

/* Check the fields that follow the type name for the key's shape. */
static int check_body(struct reader *r, const struct key_type *kt, char *err, size_t errlen)
{
	const unsigned char *s;
	size_t len;

	switch (kt->shape) {
	case SHAPE_ED25519:
	case SHAPE_SK_ED25519:
		if (read_string(r, &s, &len) < 0 || len != 32)
			goto bad;
		break;
	case SHAPE_RSA:
		/* e, then n: non-empty mpints */
		if (read_string(r, &s, &len) < 0 || len == 0)
			goto bad;
		if (read_string(r, &s, &len) < 0 || len == 0)
			goto bad;
		break;
	case SHAPE_ECDSA:
	case SHAPE_SK_ECDSA:
		if (read_string(r, &s, &len) < 0 || !string_is(s, len, kt->curve))
			goto bad;
		if (read_string(r, &s, &len) < 0 || len != kt->point_len || s[0] != 0x04)
			goto bad;
		break;
	}
	if (kt->shape == SHAPE_SK_ED25519 || kt->shape == SHAPE_SK_ECDSA) {
		/* the FIDO application, "ssh:" by default */
		if (read_string(r, &s, &len) < 0 || len == 0)
			goto bad;
	}
	if (r->left != 0)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "invalid %s key data", kt->name);
	return -1;
}

static const char *skip_space(const char *p)
{
	while (*p && isspace((unsigned char)*p))
		p++;
	return p;
}

static size_t token_len(const char *p)
{
	size_t n = 0;

	while (p[n] && !isspace((unsigned char)p[n]))
		n++;
	return n;
}

int gg_sshkey_parse(struct gg_sshkey *out, const char *type, const char *text, char *err,
		    size_t errlen)
{
	unsigned char blob[BLOB_BYTES_MAX];
	const struct key_type *kt = NULL;
	const char *p, *b64, *comment;
	size_t b64len, clen;
	const unsigned char *name;
	size_t namelen;
	struct reader r;
	long n;

	memset(out, 0, sizeof(*out));
	if (!text) {
		snprintf(err, errlen, "no key given");
		return -1;
	}
	p = skip_space(text);
	if (!*p) {
		snprintf(err, errlen, "no key given");
		return -1;
	}

	if (type) {
		kt = find_type(type, strlen(type));
		if (!kt) {
			snprintf(err, errlen, "unsupported key type: %.64s", type);
			return -1;
		}
	} else {
		/* "type base64 [comment]", or a bare blob (no second word). */
		size_t first = token_len(p);
		const char *second = skip_space(p + first);

		if (*second) {
			kt = find_type(p, first);
			if (!kt) {
				snprintf(err, errlen, "unsupported key type: %.*s",
					 (int)(first > 64 ? 64 : first), p);
				return -1;
			}
			p = second;
		}
	}

	b64 = p;
	b64len = token_len(b64);
	comment = skip_space(b64 + b64len);
	if (type && *comment) {
		snprintf(err, errlen, "unexpected text after the key data");
		return -1;
	}
	if (b64len >= GG_SSHKEY_BLOB_MAX) {
		snprintf(err, errlen, "key data is too long");
		return -1;
	}
	n = decode_base64(b64, b64len, blob, sizeof(blob));
	if (n <= 0) {
		snprintf(err, errlen, "key data is not valid base64");
		return -1;
	}

	r.p = blob;
	r.left = (size_t)n;
	if (read_string(&r, &name, &namelen) < 0 || namelen == 0) {
		snprintf(err, errlen, "key data is not an SSH public key");
		return -1;
	}
	if (kt) {
		if (!string_is(name, namelen, kt->name)) {
			snprintf(err, errlen, "key data does not match key type %s", kt->name);
			return -1;
		}
	} else {
		kt = find_type((const char *)name, namelen);
		if (!kt) {
			snprintf(err, errlen, "unsupported key type in key data");
			return -1;
		}
	}
	if (check_body(&r, kt, err, errlen) < 0)
		return -1;

	snprintf(out->type, sizeof(out->type), "%s", kt->name);
	memcpy(out->blob, b64, b64len);
	out->blob[b64len] = '\0';
	clen = strlen(comment);
	while (clen > 0 && isspace((unsigned char)comment[clen - 1]))
		clen--;
	if (clen >= sizeof(out->comment))
		clen = sizeof(out->comment) - 1;
	for (size_t i = 0; i < clen; i++) {
		/* a comment is shown to admins: keep it to one printable line */
		unsigned char c = (unsigned char)comment[i];
		out->comment[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	fingerprint_of(blob, (size_t)n, out->fingerprint);
	return 0;
}
