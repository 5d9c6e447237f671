/*
 * store_valid.h - the checks every store backend makes on its input before
 * any SQL runs, shared so that SQLite and PostgreSQL accept exactly the same
 * usernames, paths, branches and scopes (store_sqlite.c, store_pg.c).
 */
#ifndef GG_STORE_VALID_H
#define GG_STORE_VALID_H

#include <stdbool.h>
#include <stddef.h>

bool gg_store_ends_with_nocase(const char *s, const char *suffix);
/* GitLab's rules: letters, digits, '_', '.', '-'; no leading '.' or '-';
 * no trailing ".git" or ".atom". */
bool gg_store_valid_username(const char *u);
bool gg_store_valid_email(const char *e);
/* Bounded by max; no control characters (newlines and tabs when multiline). */
bool gg_store_valid_text(const char *t, size_t max, bool multiline);
/* "group[/subgroup]/name". */
bool gg_store_valid_full_path(const char *p);
bool gg_store_valid_branch(const char *b);
bool gg_store_valid_level(int level);
/* "api,read_api": comma-separated words of [a-z_]; empty unless required. */
bool gg_store_valid_scopes(const char *s, bool required);
/* n (at most 64) random characters of the URL-safe base64 alphabet, then a NUL.
 * 0, or -1 when there is no randomness. */
int gg_store_random_urlsafe(char *out, size_t n);

#endif
