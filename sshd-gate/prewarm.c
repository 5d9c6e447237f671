/*
 * prewarm.c - see prewarm.h.
 *
 * The operations follow libssh 0.10's OpenSSL back end: legacy EVP_MD and
 * EVP_CIPHER objects (EVP_sha256(), EVP_aes_256_ctr(), ...) that OpenSSL 3
 * fetches implicitly, HMAC and Poly1305 through EVP_DigestSign*, curve25519
 * through EVP_PKEY_X25519, Ed25519 and RSA signatures through
 * EVP_DigestSign/EVP_DigestVerify, and the session keys derived with the
 * SSHKDF of EVP_KDF (whose first fetch fills OpenSSL's name map: a write to
 * many pages of the heap when a connection process does it instead).
 */
#include "prewarm.h"

#include <stddef.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

static unsigned char key[32] = "sshd-gate prewarm key, 32 bytes";
static const unsigned char msg[] = "sshd-gate";

static void digests(void)
{
	const EVP_MD *mds[] = {EVP_sha1(), EVP_sha256(), EVP_sha384(), EVP_sha512(), EVP_md5()};
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned int len;

	for (size_t i = 0; i < sizeof(mds) / sizeof(mds[0]); i++) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();

		if (ctx && EVP_DigestInit_ex(ctx, mds[i], NULL) == 1 &&
		    EVP_DigestUpdate(ctx, msg, sizeof(msg)) == 1)
			EVP_DigestFinal_ex(ctx, out, &len);
		EVP_MD_CTX_free(ctx);
	}
}

/* A MAC key of type pkey_type used with EVP_DigestSign* (HMAC, Poly1305). */
static void mac(int pkey_type, const EVP_MD *md)
{
	EVP_PKEY *pkey = pkey_type == EVP_PKEY_HMAC
			     ? EVP_PKEY_new_mac_key(EVP_PKEY_HMAC, NULL, key, sizeof(key))
			     : EVP_PKEY_new_raw_private_key(pkey_type, NULL, key, sizeof(key));
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char out[EVP_MAX_MD_SIZE];
	size_t len = sizeof(out);

	if (pkey && ctx && EVP_DigestSignInit(ctx, NULL, md, NULL, pkey) == 1 &&
	    EVP_DigestSignUpdate(ctx, msg, sizeof(msg)) == 1)
		EVP_DigestSignFinal(ctx, out, &len);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
}

static void ciphers(void)
{
	const EVP_CIPHER *ciphers[] = {EVP_chacha20(),	  EVP_aes_128_ctr(), EVP_aes_192_ctr(),
				       EVP_aes_256_ctr(), EVP_aes_128_gcm(), EVP_aes_256_gcm(),
				       EVP_aes_128_cbc(), EVP_aes_256_cbc()};
	unsigned char iv[16] = {0}, out[64];
	int len;

	for (size_t i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++) {
		for (int enc = 0; enc <= 1; enc++) {
			EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

			if (ctx && EVP_CipherInit_ex(ctx, ciphers[i], NULL, key, iv, enc) == 1)
				EVP_CipherUpdate(ctx, out, &len, key, 16);
			EVP_CIPHER_CTX_free(ctx);
		}
	}
}

static EVP_PKEY *keygen(int type)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(type, NULL);
	EVP_PKEY *pkey = NULL;

	if (ctx && EVP_PKEY_keygen_init(ctx) == 1)
		EVP_PKEY_keygen(ctx, &pkey);
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/* A key from the raw public half of pkey, as libssh builds a peer's key. */
static EVP_PKEY *public_copy(int type, EVP_PKEY *pkey)
{
	unsigned char pub[64];
	size_t len = sizeof(pub);

	if (pkey == NULL || EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1)
		return NULL;
	return EVP_PKEY_new_raw_public_key(type, NULL, pub, len);
}

static void x25519(void)
{
	EVP_PKEY *a = keygen(EVP_PKEY_X25519), *b = keygen(EVP_PKEY_X25519);
	EVP_PKEY *peer = public_copy(EVP_PKEY_X25519, b);
	EVP_PKEY_CTX *ctx = a ? EVP_PKEY_CTX_new(a, NULL) : NULL;
	unsigned char secret[64];
	size_t len = sizeof(secret);

	if (ctx && peer && EVP_PKEY_derive_init(ctx) == 1 &&
	    EVP_PKEY_derive_set_peer(ctx, peer) == 1)
		EVP_PKEY_derive(ctx, secret, &len);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(b);
	EVP_PKEY_free(a);
}

/* The key derivation of every key exchange (RFC 4253 section 7.2). */
static void sshkdf(void)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SSHKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	char digest[] = "SHA256", type[] = "A";
	unsigned char out[32];
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, key, sizeof(key)),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SSHKDF_XCGHASH, key, sizeof(key)),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SSHKDF_SESSION_ID, key, sizeof(key)),
	    OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_SSHKDF_TYPE, type, 0),
	    OSSL_PARAM_construct_end()};

	if (ctx)
		EVP_KDF_derive(ctx, out, sizeof(out), params);
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
}

/* A signature with key and its verification with verify_key. */
static void sign_verify(EVP_PKEY *key, EVP_PKEY *verify_key, const EVP_MD *md)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char sig[512];
	size_t len = sizeof(sig);
	int signed_ok = 0;

	if (ctx && key && EVP_DigestSignInit(ctx, NULL, md, NULL, key) == 1 &&
	    EVP_DigestSign(ctx, sig, &len, msg, sizeof(msg)) == 1)
		signed_ok = 1;
	EVP_MD_CTX_free(ctx);
	ctx = EVP_MD_CTX_new();
	if (ctx && signed_ok && verify_key &&
	    EVP_DigestVerifyInit(ctx, NULL, md, NULL, verify_key) == 1)
		EVP_DigestVerify(ctx, sig, len, msg, sizeof(msg));
	EVP_MD_CTX_free(ctx);
}

static void ed25519(void)
{
	EVP_PKEY *key = keygen(EVP_PKEY_ED25519);
	EVP_PKEY *pub = public_copy(EVP_PKEY_ED25519, key);

	sign_verify(key, pub, NULL);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(key);
}

static void rsa(void)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);

	sign_verify(key, key, EVP_sha256());
	sign_verify(key, key, EVP_sha512());
	EVP_PKEY_free(key);
}

void gg_prewarm_crypto(void)
{
	unsigned char buf[32];

	RAND_bytes(buf, sizeof(buf));
	RAND_priv_bytes(buf, sizeof(buf));
	digests();
	mac(EVP_PKEY_HMAC, EVP_sha1());
	mac(EVP_PKEY_HMAC, EVP_sha256());
	mac(EVP_PKEY_HMAC, EVP_sha512());
	mac(EVP_PKEY_POLY1305, NULL);
	ciphers();
	x25519();
	sshkdf();
	ed25519();
	rsa();
}
