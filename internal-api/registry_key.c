/*
 * registry_key.c - the container registry's signing key (registry_key.h),
 * made, read and certified with OpenSSL.
 */
#include "registry_key.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static EVP_PKEY *load_pem(const char *pem, size_t len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;

	BIO_free(bio);
	return key;
}

int gg_registry_key_ensure(const char *path, char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;
	FILE *f = NULL;
	int fd, rc = -1;

	if (access(path, F_OK) == 0)
		return 0;
	key = EVP_RSA_gen(2048);
	if (!key) {
		snprintf(err, errlen, "cannot generate an RSA key");
		goto done;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		/* Another process made it first: theirs is as good as ours. */
		if (errno == EEXIST)
			rc = 0;
		else
			snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		goto done;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		goto done;
	}
	if (PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1) {
		snprintf(err, errlen, "cannot write %s", path);
		goto done;
	}
	rc = 0;
done:
	if (f && fclose(f) != 0 && rc == 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		rc = -1;
	}
	if (rc < 0 && f)
		unlink(path);
	EVP_PKEY_free(key);
	return rc;
}

int gg_registry_key_read(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long size;
	EVP_PKEY *key;

	*out = NULL;
	if (!f) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) <= 0 || size > 65536 ||
	    fseek(f, 0, SEEK_SET) != 0 || !(buf = malloc((size_t)size + 1)) ||
	    fread(buf, 1, (size_t)size, f) != (size_t)size) {
		snprintf(err, errlen, "cannot read %s", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[size] = '\0';
	key = load_pem(buf, (size_t)size);
	if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		snprintf(err, errlen, "%s: not an RSA private key in PEM", path);
		EVP_PKEY_free(key);
		explicit_bzero(buf, (size_t)size);
		free(buf);
		return -1;
	}
	EVP_PKEY_free(key);
	*out = buf;
	*len = (size_t)size;
	return 0;
}

int gg_registry_key_id(const char *pem, size_t len, char *out, size_t outlen)
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char *der = NULL, digest[SHA256_DIGEST_LENGTH];
	char enc[49];
	EVP_PKEY *key = load_pem(pem, len);
	int n, rc = -1;
	size_t o = 0;

	if (!key || outlen < 60)
		goto done;
	n = i2d_PUBKEY(key, &der);
	if (n <= 0)
		goto done;
	SHA256(der, (size_t)n, digest);
	/* 30 bytes (240 bits) are 48 base32 characters, without padding. */
	for (size_t i = 0; i < 48; i++) {
		size_t bit = i * 5, byte = bit / 8, shift = bit % 8;
		unsigned v = ((unsigned)digest[byte] << 8) | (byte + 1 < 30 ? digest[byte + 1] : 0);

		enc[i] = b32[(v >> (11 - shift)) & 31];
	}
	for (size_t i = 0; i < 48; i += 4) {
		if (i)
			out[o++] = ':';
		memcpy(out + o, enc + i, 4);
		o += 4;
	}
	out[o] = '\0';
	rc = 0;
done:
	OPENSSL_free(der);
	EVP_PKEY_free(key);
	return rc;
}

int gg_registry_cert_pem(const char *path, const char *common_name, char **out, char *err,
			 size_t errlen)
{
	char *pem = NULL;
	size_t len = 0;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	X509_NAME *name;
	BIO *bio = NULL;
	BUF_MEM *mem;
	int rc = -1;

	*out = NULL;
	if (gg_registry_key_read(path, &pem, &len, err, errlen) < 0)
		return -1;
	key = load_pem(pem, len);
	cert = X509_new();
	bio = BIO_new(BIO_s_mem());
	if (!key || !cert || !bio)
		goto fail;
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), (long)time(NULL));
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 24 * 3600);
	name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)common_name,
				   -1, -1, 0);
	if (X509_set_issuer_name(cert, name) != 1 || X509_set_pubkey(cert, key) != 1 ||
	    X509_sign(cert, key, EVP_sha256()) <= 0 || PEM_write_bio_X509(bio, cert) != 1)
		goto fail;
	BIO_get_mem_ptr(bio, &mem);
	*out = strndup(mem->data, mem->length);
	if (*out)
		rc = 0;
	goto done;
fail:
	snprintf(err, errlen, "cannot make a certificate for %s", path);
done:
	BIO_free(bio);
	X509_free(cert);
	EVP_PKEY_free(key);
	explicit_bzero(pem, len);
	free(pem);
	return rc;
}
