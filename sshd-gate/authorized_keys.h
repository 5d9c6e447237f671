/*
 * authorized_keys.h - the line gate-authorized-keys-check hands to OpenSSH
 * (SPEC §5):
 *
 *   command="<dir>/gate-shell
 * key-N",no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty <type> <base64>
 *
 * sshd parses that line as an authorized_keys entry and later runs the
 * command through the user's shell, so one stray quote, space or newline in
 * it would hand a stranger a shell.  The invariant kept here: a line is only
 * ever built from a positive key id formatted by us, a key that parsed as an
 * SSH public key, and paths made of a short list of inert characters.
 * Anything else is refused and nothing is printed.
 */
#ifndef GG_AUTHORIZED_KEYS_H
#define GG_AUTHORIZED_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* The options that follow command="..." on every line. */
#define GG_AUTHORIZED_KEYS_OPTIONS "no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty"

/*
 * 1 when every byte of s is one that means nothing to sshd's option parser
 * nor to a POSIX shell: [A-Za-z0-9] and "/._+,:@=-".  0 otherwise (also for
 * "" and NULL).
 */
int gg_authorized_keys_inert(const char *s);

/*
 * Append the line for key_id to out, ending with '\n'.  shell_dir is the
 * directory of gate-shell (without a trailing '/'); config_path, when not
 * NULL, is passed on as "--config <path>" so that gate-shell reads the same
 * configuration; type and blob are the key as gg_sshkey_parse() returned it.
 * 0, or -1 with nothing appended when an argument is unsafe or memory ran
 * out.
 */
int gg_authorized_keys_line(struct gg_buf *out, const char *shell_dir, const char *config_path,
			    int64_t key_id, const char *type, const char *blob);

/* Append "# No key was found for <blob>\n"; -1 when blob is not base64. */
int gg_authorized_keys_not_found(struct gg_buf *out, const char *blob);

#endif
