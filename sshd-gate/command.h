/*
 * command.h - the SSH exec command a Git client sends, parsed (SPEC §5).
 *
 * The command line comes from a stranger before any access check, and its
 * path ends up in an API request and, through gate-api, in a file system
 * path.  So it is never split by a shell or a general tokenizer: the parser
 * accepts exactly the few spellings Git clients send, and a path made only
 * of plain segments ([A-Za-z0-9_.-], none empty, none starting with '.' or
 * '-').  Everything else is one answer, "Disallowed command".
 *
 * The parser is a pure function of its input bytes, so that it can be unit
 * tested and fuzzed.
 */
#ifndef GG_COMMAND_H
#define GG_COMMAND_H

#include <stddef.h>

/* Longest command line looked at, and longest path accepted (bytes). */
#define GG_COMMAND_MAX	       4096
#define GG_COMMAND_PATH_MAX    512
#define GG_COMMAND_SEGMENT_MAX 255

enum gg_command_kind {
	GG_CMD_WELCOME = 0, /* the empty command: greet the user */
	GG_CMD_UPLOAD_PACK,
	GG_CMD_RECEIVE_PACK,
	GG_CMD_UPLOAD_ARCHIVE,
};

enum {
	GG_COMMAND_OK = 0,
	GG_COMMAND_EDISALLOWED = -1, /* unknown command, bad arguments or bad path */
};

struct gg_command {
	enum gg_command_kind kind;
	/*
	 * The project path without a leading '/' and without a trailing
	 * ".git", e.g. "group/sub/project"; "" for GG_CMD_WELCOME.
	 */
	char project[GG_COMMAND_PATH_MAX];
};

/*
 * Parse the len bytes at line (not necessarily NUL-terminated; a NUL byte
 * inside is an error).  Returns GG_COMMAND_OK and fills *out, or
 * GG_COMMAND_EDISALLOWED, leaving *out zeroed.
 */
int gg_command_parse(struct gg_command *out, const char *line, size_t len);

/* The action name for the internal API: "git-upload-pack", ...; NULL for
 * GG_CMD_WELCOME. */
const char *gg_command_action(enum gg_command_kind kind);

#endif
