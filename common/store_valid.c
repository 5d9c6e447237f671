/*
 * store_valid.c - what every store backend accepts, checked before SQL runs,
 * so that SQLite and PostgreSQL refuse the same input with the same message.
 */
#include "store_valid.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "repo.h"
#include "store.h"
#include "util.h"

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

bool gg_store_ends_with_nocase(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* GitLab's rules for a username (and a path segment): letters, digits, '_',
 * '.', '-'; not starting with '.' or '-'; not ending in ".git" or ".atom". */
bool gg_store_valid_username(const char *u)
{
	size_t n = u ? strlen(u) : 0;

	if (n == 0 || n >= GG_NAME_MAX || u[0] == '.' || u[0] == '-' || u[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_name_char(u[i]))
			return false;
	return !gg_store_ends_with_nocase(u, ".git") && !gg_store_ends_with_nocase(u, ".atom");
}

bool gg_store_valid_email(const char *e)
{
	size_t n = e ? strlen(e) : 0;
	const char *at = e ? strchr(e, '@') : NULL;

	if (n == 0 || n >= GG_NAME_MAX || !at || at == e || at[1] == '\0' || strchr(at + 1, '@'))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)e[i] <= ' ' || e[i] == 0x7f)
			return false;
	return true;
}

/* Free text shown to people: bounded, no control characters except in
 * messages, which may hold newlines. */
bool gg_store_valid_text(const char *t, size_t max, bool multiline)
{
	size_t n = t ? strnlen(t, max) : 0;

	if (n >= max)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];

		if ((c < 0x20 && !(multiline && (c == '\n' || c == '\t'))) || c == 0x7f)
			return false;
	}
	return true;
}

/* "group[/subgroup]/name": at least two segments of name characters. */
bool gg_store_valid_full_path(const char *p)
{
	char err[8];

	if (!p || strlen(p) + 4 >= GG_PATH_MAX || !strchr(p, '/'))
		return false;
	if (gg_repo_check_path(p, err, sizeof(err)) < 0)
		return false;
	return !gg_store_ends_with_nocase(p, ".git") && !gg_store_ends_with_nocase(p, ".atom");
}

/* A branch name git would accept (git check-ref-format, simplified). */
bool gg_store_valid_branch(const char *b)
{
	size_t n = b ? strlen(b) : 0;

	if (n == 0 || n >= GG_NAME_MAX || b[0] == '-' || b[0] == '/' || b[0] == '.' ||
	    b[n - 1] == '/' || b[n - 1] == '.' || strstr(b, "..") || strstr(b, "//") ||
	    strstr(b, "@{") || strstr(b, "/.") || gg_store_ends_with_nocase(b, ".lock") ||
	    strcmp(b, "@") == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];

		if (c <= ' ' || c == 0x7f || strchr("~^:?*[\\", c))
			return false;
	}
	return true;
}

bool gg_store_valid_level(int level)
{
	return level == GG_ACCESS_GUEST || level == GG_ACCESS_REPORTER ||
	       level == GG_ACCESS_DEVELOPER || level == GG_ACCESS_MAINTAINER ||
	       level == GG_ACCESS_OWNER;
}

/* "api,read_api": comma-separated words of [a-z_]. */
bool gg_store_valid_scopes(const char *s, bool required)
{
	size_t n = s ? strlen(s) : 0;
	bool word = false;

	if (n == 0)
		return !required;
	if (n >= GG_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ',') {
			if (!word)
				return false;
			word = false;
		} else if ((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_') {
			word = true;
		} else {
			return false;
		}
	}
	return word;
}

/* Random characters of the URL-safe base64 alphabet: 64 symbols, so taking
 * six bits of a random byte is unbiased. */
int gg_store_random_urlsafe(char *out, size_t n)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char raw[64];

	if (n > sizeof(raw) || gg_random_bytes(raw, n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[raw[i] & 63];
	out[n] = '\0';
	explicit_bzero(raw, sizeof(raw));
	return 0;
}
