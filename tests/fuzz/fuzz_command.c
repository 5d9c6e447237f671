/*
 * fuzz_command.c - the SSH exec command parser (sshd-gate/command.h).
 *
 * The command line is the first thing a stranger sends, before any access
 * check.  Besides "no crash", the target checks the parser's promise: an
 * accepted path is made only of plain segments, and a refusal leaves the
 * output zeroed.
 */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "command.h"

static bool plain_segment_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

static void check_project(const char *project)
{
	size_t len = strnlen(project, GG_COMMAND_PATH_MAX);
	bool segment_start = true;

	assert(len < GG_COMMAND_PATH_MAX);
	for (size_t i = 0; i < len; i++) {
		char c = project[i];

		if (c == '/') {
			assert(!segment_start); /* no empty segment, no leading '/' */
			segment_start = true;
			continue;
		}
		assert(plain_segment_char(c));
		if (segment_start)
			assert(c != '.' && c != '-');
		segment_start = false;
	}
	assert(len == 0 || !segment_start); /* no trailing '/' */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gg_command cmd;
	static const struct gg_command zero;

	memset(&cmd, 0xa5, sizeof(cmd));
	if (gg_command_parse(&cmd, (const char *)data, size) == GG_COMMAND_OK) {
		check_project(cmd.project);
		if (cmd.kind == GG_CMD_WELCOME)
			assert(cmd.project[0] == '\0');
		else
			assert(cmd.project[0] != '\0' && gg_command_action(cmd.kind) != NULL);
	} else {
		assert(memcmp(&cmd, &zero, sizeof(cmd)) == 0);
	}
	return 0;
}
