/*
 * authorized_keys.c - see authorized_keys.h.
 */
#include "authorized_keys.h"

#include <inttypes.h>
#include <string.h>

#include "sshkey.h"

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int gg_authorized_keys_inert(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s; s++)
		if (!is_alnum(*s) && strchr("/._+,:@=-", *s) == NULL)
			return 0;
	return 1;
}

static int is_base64(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (; s[n]; n++)
		if (!is_alnum(s[n]) && s[n] != '+' && s[n] != '/' && s[n] != '=')
			return 0;
	return n > 0 && n < GG_SSHKEY_BLOB_MAX;
}

/* A key type is a short word such as "ssh-ed25519" or "ecdsa-sha2-nistp256". */
static int is_key_type(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (; s[n]; n++)
		if (!is_alnum(s[n]) && s[n] != '-' && s[n] != '.' && s[n] != '@')
			return 0;
	return n > 0 && n < GG_SSHKEY_TYPE_MAX;
}

int gg_authorized_keys_line(struct gg_buf *out, const char *shell_dir, const char *config_path,
			    int64_t key_id, const char *type, const char *blob)
{
	if (key_id <= 0 || !gg_authorized_keys_inert(shell_dir) ||
	    (config_path != NULL && !gg_authorized_keys_inert(config_path)) || !is_key_type(type) ||
	    !is_base64(blob))
		return -1;
	/* gg_buf_printf appends all or nothing. */
	return gg_buf_printf(out,
			     "command=\"%s/gate-shell%s%s key-%" PRId64
			     "\"," GG_AUTHORIZED_KEYS_OPTIONS " %s %s\n",
			     shell_dir, config_path ? " --config " : "",
			     config_path ? config_path : "", key_id, type, blob) == 0
		   ? 0
		   : -1;
}

int gg_authorized_keys_not_found(struct gg_buf *out, const char *blob)
{
	if (!is_base64(blob))
		return -1;
	return gg_buf_printf(out, "# No key was found for %s\n", blob) == 0 ? 0 : -1;
}
