/*
 * registry_key.h - the RSA key pair that signs container registry tokens.
 *
 * The registry trusts gate-api's tokens by the public half of this key, given
 * to it as a certificate (auth.token.rootcertbundle), so the private half
 * lives in one PEM file ([registry] key_file, mode 0600) made by
 * `gatectl init` or on gate-api's first start.  gate-api and gatectl both use
 * these functions; nothing here talks HTTP.
 */
#ifndef GG_REGISTRY_KEY_H
#define GG_REGISTRY_KEY_H

#include <stddef.h>

/* Make a 2048-bit RSA key at path (mode 0600) unless a file is there already.
 * 0, or -1 with one line in err. */
int gg_registry_key_ensure(const char *path, char *err, size_t errlen);

/* Read the private key PEM at path into *out (NUL-terminated, caller frees).
 * 0, or -1 with one line in err. */
int gg_registry_key_read(const char *path, char **out, size_t *len, char *err, size_t errlen);

/* The key id as Docker's libtrust spells it (twelve colon-separated groups of
 * four base32 characters of the SHA-256 of the public key), which the registry
 * matches against the certificates of its rootcertbundle. */
int gg_registry_key_id(const char *pem, size_t len, char *out, size_t outlen);

/* A self-signed certificate (PEM, CN = common_name, valid ten years) for the
 * key at path, for the registry's rootcertbundle.  Caller frees *out.
 * 0, or -1 with one line in err. */
int gg_registry_cert_pem(const char *path, const char *common_name, char **out, char *err,
			 size_t errlen);

#endif
