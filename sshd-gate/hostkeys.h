/*
 * hostkeys.h - the daemon's SSH host keys (SPEC §5).
 *
 * A fresh installation must start without an operator running ssh-keygen, and
 * a restart must never change the keys clients have pinned: so the keys are
 * generated once, at the first start, into the data directory (mode 0600,
 * written to a temporary name and renamed, so a crash never leaves half a
 * key), and only read from then on.  ed25519 first, then RSA (offered with
 * SHA-2 signatures only).
 */
#ifndef GG_SSHD_HOSTKEYS_H
#define GG_SSHD_HOSTKEYS_H

#include <libssh/libssh.h>
#include <libssh/server.h>
#include <stddef.h>
#include <stdio.h>

#define GG_HOSTKEY_RSA_BITS 3072

/*
 * Generate the keys missing from dir (created 0700 when absent) and load all
 * of them into bind.  0, or -1 with a message in err.
 */
int gg_hostkeys_setup(ssh_bind bind, const char *dir, char *err, size_t errlen);

/*
 * Print one line per host key of dir: "SHA256:<fingerprint> <path> (<TYPE>)",
 * the fingerprint as ssh-keygen -l and the ssh client show it.  Generates missing keys first.  0,
 * or -1 with a message in err.
 */
int gg_hostkeys_print(FILE *out, const char *dir, char *err, size_t errlen);

#endif
