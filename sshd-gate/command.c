/*
 * command.c - see command.h.
 *
 * Grammar (SP is one or more spaces; nothing else counts as a separator):
 *
 *   line    = "" | verb SP arg [SP]
 *   verb    = "git-upload-pack" | "git-receive-pack" | "git-upload-archive"
 *           | "git" SP "upload-pack" | "git" SP "receive-pack"
 *           | "git" SP "upload-archive"
 *   arg     = "'" path "'" | DQUOTE path DQUOTE | path
 *   path    = ["/"] segment *("/" segment)       ; the last may end in ".git"
 *   segment = 1*255( ALPHA / DIGIT / "_" / "." / "-" ), not starting with
 *             "." or "-"
 */
#include "command.h"

#include <stdbool.h>
#include <string.h>

struct verb {
	const char *name;
	enum gg_command_kind kind;
};

static const struct verb verbs[] = {
    {"git-upload-pack", GG_CMD_UPLOAD_PACK},
    {"git-receive-pack", GG_CMD_RECEIVE_PACK},
    {"git-upload-archive", GG_CMD_UPLOAD_ARCHIVE},
};

/* A cursor over untrusted bytes: every read is checked against the end. */
struct cursor {
	const char *p;
	const char *end;
};

static bool at_end(const struct cursor *c)
{
	return c->p >= c->end;
}

static bool skip_literal(struct cursor *c, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
		return false;
	c->p += n;
	return true;
}

/* Skips one or more spaces; false when there was none. */
static bool skip_spaces(struct cursor *c)
{
	const char *start = c->p;

	while (!at_end(c) && *c->p == ' ')
		c->p++;
	return c->p > start;
}

/* The verb followed by its separator, as a kind; -1 when unknown. */
static int read_verb(struct cursor *c)
{
	struct cursor save = *c;
	bool git_space = false;

	/* "git upload-pack" is "git-upload-pack" with the dash spelled as spaces. */
	if (skip_literal(c, "git") && skip_spaces(c))
		git_space = true;
	else
		*c = save;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		const char *name = git_space ? verbs[i].name + strlen("git-") : verbs[i].name;
		struct cursor try = *c;

		if (skip_literal(&try, name) && skip_spaces(&try)) {
			*c = try;
			return (int)verbs[i].kind;
		}
	}
	return -1;
}

static bool is_segment_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '.' || ch == '-';
}

/*
 * Validates path[0..len) and writes the project (no leading '/', no trailing
 * ".git") into out.
 */
static bool normalize_path(char out[GG_COMMAND_PATH_MAX], const char *path, size_t len)
{
	size_t seglen = 0;

	if (len > 0 && path[0] == '/') {
		path++;
		len--;
	}
	if (len >= 4 && memcmp(path + len - 4, ".git", 4) == 0)
		len -= 4;
	if (len == 0 || len >= GG_COMMAND_PATH_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = path[i];

		if (ch == '/') {
			if (seglen == 0)
				return false;
			seglen = 0;
			continue;
		}
		if (!is_segment_char(ch))
			return false;
		if (seglen == 0 && (ch == '.' || ch == '-'))
			return false;
		if (++seglen > GG_COMMAND_SEGMENT_MAX)
			return false;
	}
	if (seglen == 0)
		return false;
	memcpy(out, path, len);
	out[len] = '\0';
	return true;
}

int gg_command_parse(struct gg_command *out, const char *line, size_t len)
{
	struct cursor c = {line, line + len};
	const char *arg;
	size_t arglen;
	int kind;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return GG_COMMAND_OK; /* GG_CMD_WELCOME */
	if (line == NULL || len > GG_COMMAND_MAX || memchr(line, '\0', len) != NULL)
		goto disallowed;

	kind = read_verb(&c);
	if (kind < 0 || at_end(&c))
		goto disallowed;

	if (*c.p == '\'' || *c.p == '"') {
		char quote = *c.p++;
		const char *close = memchr(c.p, quote, (size_t)(c.end - c.p));

		if (close == NULL)
			goto disallowed;
		arg = c.p;
		arglen = (size_t)(close - c.p);
		c.p = close + 1;
	} else {
		arg = c.p;
		while (!at_end(&c) && *c.p != ' ')
			c.p++;
		arglen = (size_t)(c.p - arg);
	}
	/* Only spaces may follow the one argument. */
	skip_spaces(&c);
	if (!at_end(&c))
		goto disallowed;
	if (!normalize_path(out->project, arg, arglen))
		goto disallowed;
	out->kind = (enum gg_command_kind)kind;
	return GG_COMMAND_OK;

disallowed:
	memset(out, 0, sizeof(*out));
	return GG_COMMAND_EDISALLOWED;
}

const char *gg_command_action(enum gg_command_kind kind)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (verbs[i].kind == kind)
			return verbs[i].name;
	return NULL;
}
