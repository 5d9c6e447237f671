/*
 * test_command.c - the SSH exec command parser of sshd-gate (SPEC §5): the
 * spellings Git clients send are accepted, everything else is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "command.h"

static void assert_parses(const char *line, size_t len, enum gg_command_kind kind,
			  const char *project)
{
	struct gg_command cmd;

	assert_int_equal(gg_command_parse(&cmd, line, len), GG_COMMAND_OK);
	assert_int_equal(cmd.kind, kind);
	assert_string_equal(cmd.project, project);
}

static void assert_refused_n(const char *line, size_t len)
{
	struct gg_command cmd;

	memset(&cmd, 0x55, sizeof(cmd));
	assert_int_equal(gg_command_parse(&cmd, line, len), GG_COMMAND_EDISALLOWED);
	assert_int_equal(cmd.kind, GG_CMD_WELCOME);
	assert_string_equal(cmd.project, "");
}

#define ACCEPT(name, line, kind, project)                                                          \
	static void test_accepts_##name(void **state)                                              \
	{                                                                                          \
		(void)state;                                                                       \
		assert_parses(line, strlen(line), kind, project);                                  \
	}
#define REFUSE(name, line)                                                                         \
	static void test_refuses_##name(void **state)                                              \
	{                                                                                          \
		(void)state;                                                                       \
		assert_refused_n(line, sizeof(line) - 1);                                          \
	}

/* --- what clients send ------------------------------------------------------------------ */
ACCEPT(upload_pack_single_quoted, "git-upload-pack 'group/project.git'", GG_CMD_UPLOAD_PACK,
       "group/project")
ACCEPT(upload_pack_leading_slash, "git-upload-pack '/group/project.git'", GG_CMD_UPLOAD_PACK,
       "group/project")
ACCEPT(receive_pack_single_quoted, "git-receive-pack 'group/project.git'", GG_CMD_RECEIVE_PACK,
       "group/project")
ACCEPT(upload_archive, "git-upload-archive 'group/project.git'", GG_CMD_UPLOAD_ARCHIVE,
       "group/project")
ACCEPT(double_quoted, "git-upload-pack \"group/project.git\"", GG_CMD_UPLOAD_PACK, "group/project")
ACCEPT(unquoted, "git-receive-pack group/project.git", GG_CMD_RECEIVE_PACK, "group/project")
ACCEPT(without_dot_git, "git-upload-pack 'group/project'", GG_CMD_UPLOAD_PACK, "group/project")
ACCEPT(unquoted_leading_slash_no_suffix, "git-upload-pack /group/project", GG_CMD_UPLOAD_PACK,
       "group/project")
ACCEPT(git_space_upload_pack, "git upload-pack 'group/project.git'", GG_CMD_UPLOAD_PACK,
       "group/project")
ACCEPT(git_space_receive_pack, "git receive-pack '/group/project.git'", GG_CMD_RECEIVE_PACK,
       "group/project")
ACCEPT(git_space_upload_archive, "git upload-archive group/project", GG_CMD_UPLOAD_ARCHIVE,
       "group/project")
ACCEPT(subgroups, "git-upload-pack 'a/b/c/d.git'", GG_CMD_UPLOAD_PACK, "a/b/c/d")
ACCEPT(allowed_characters, "git-upload-pack 'My_Group-1/pro.ject_2-x.git'", GG_CMD_UPLOAD_PACK,
       "My_Group-1/pro.ject_2-x")
ACCEPT(only_one_dot_git_removed, "git-upload-pack 'g/p.git.git'", GG_CMD_UPLOAD_PACK, "g/p.git")
ACCEPT(single_segment, "git-upload-pack 'project'", GG_CMD_UPLOAD_PACK, "project")
ACCEPT(several_spaces, "git-upload-pack   'g/p.git'", GG_CMD_UPLOAD_PACK, "g/p")
ACCEPT(trailing_space, "git-upload-pack 'g/p.git' ", GG_CMD_UPLOAD_PACK, "g/p")
ACCEPT(dots_inside_segment, "git-upload-pack 'g/a..b'", GG_CMD_UPLOAD_PACK, "g/a..b")

static void test_empty_command_is_welcome(void **state)
{
	(void)state;
	assert_parses("", 0, GG_CMD_WELCOME, "");
}

static void test_longest_path_accepted(void **state)
{
	char line[GG_COMMAND_MAX], seg[GG_COMMAND_SEGMENT_MAX + 1], project[GG_COMMAND_PATH_MAX];

	(void)state;
	memset(seg, 'a', GG_COMMAND_SEGMENT_MAX);
	seg[GG_COMMAND_SEGMENT_MAX] = '\0';
	snprintf(project, sizeof(project), "%s/%s", seg, seg);
	snprintf(line, sizeof(line), "git-upload-pack '/%s.git'", project);
	assert_parses(line, strlen(line), GG_CMD_UPLOAD_PACK, project);
}

static void test_action_names(void **state)
{
	(void)state;
	assert_string_equal(gg_command_action(GG_CMD_UPLOAD_PACK), "git-upload-pack");
	assert_string_equal(gg_command_action(GG_CMD_RECEIVE_PACK), "git-receive-pack");
	assert_string_equal(gg_command_action(GG_CMD_UPLOAD_ARCHIVE), "git-upload-archive");
	assert_null(gg_command_action(GG_CMD_WELCOME));
}

/* --- path traversal and hidden files ---------------------------------------------------- */
REFUSE(dotdot_prefix, "git-upload-pack '../x'")
REFUSE(dotdot_inside, "git-upload-pack 'a/../b'")
REFUSE(dotdot_suffix, "git-upload-pack 'a/..'")
REFUSE(dot_segment, "git-upload-pack 'a/./b'")
REFUSE(dotdot_alone, "git-upload-pack '..'")
REFUSE(absolute_system_path, "git-upload-pack '/etc/passwd/../../x'")
REFUSE(hidden_segment, "git-upload-pack '.hidden'")
REFUSE(hidden_inner_segment, "git-upload-pack 'g/.ssh/p'")
REFUSE(dot_git_only, "git-upload-pack '.git'")
REFUSE(slash_dot_git, "git-upload-pack 'g/.git'")
REFUSE(empty_segment, "git-upload-pack 'a//b'")
REFUSE(double_leading_slash, "git-upload-pack '//a/b'")
REFUSE(trailing_slash, "git-upload-pack 'a/b/'")
REFUSE(trailing_slash_after_git, "git-upload-pack 'a/b.git/'")
REFUSE(root_only, "git-upload-pack '/'")
REFUSE(home_tilde, "git-upload-pack '~root/x'")
REFUSE(backslash, "git-upload-pack 'a\\b'")

/* --- option and shell injection --------------------------------------------------------- */
REFUSE(option_injection, "git-upload-pack '-oProxyCommand=id'")
REFUSE(option_injection_unquoted, "git-upload-pack --upload-pack=id")
REFUSE(option_in_segment, "git-upload-pack 'g/-p'")
REFUSE(semicolon, "git-upload-pack 'g/p';rm -rf /")
REFUSE(semicolon_unquoted, "git-upload-pack g/p;rm")
REFUSE(command_substitution, "git-upload-pack '$(id)'")
REFUSE(backticks, "git-upload-pack `id`")
REFUSE(pipe, "git-upload-pack g/p | sh")
REFUSE(ampersand, "git-upload-pack g/p&&id")
REFUSE(redirect, "git-upload-pack g/p>/tmp/x")
REFUSE(newline_injection, "git-upload-pack 'g/p'\nid")
REFUSE(newline_in_path, "git-upload-pack 'g/p\nid'")
REFUSE(carriage_return, "git-upload-pack 'g/p'\r")
REFUSE(tab_separator, "git-upload-pack\t'g/p'")
REFUSE(nul_byte, "git-upload-pack 'g/p\0x'")
REFUSE(nul_after_arg, "git-upload-pack 'g/p'\0 id")
REFUSE(space_in_path, "git-upload-pack 'g/p q'")
REFUSE(glob, "git-upload-pack 'g/*'")
REFUSE(utf8, "git-upload-pack 'g/p\xc3\xa9'")

/* --- arity and quoting ------------------------------------------------------------------ */
REFUSE(no_argument, "git-upload-pack")
REFUSE(no_argument_trailing_space, "git-upload-pack ")
REFUSE(empty_quoted_argument, "git-upload-pack ''")
REFUSE(extra_argument, "git-upload-pack 'g/p' 'g/q'")
REFUSE(extra_unquoted_argument, "git-upload-pack g/p extra")
REFUSE(unbalanced_single, "git-upload-pack 'g/p")
REFUSE(unbalanced_double, "git-upload-pack \"g/p")
REFUSE(mixed_quotes, "git-upload-pack 'g/p\"")
REFUSE(quote_inside, "git-upload-pack 'g/p'q'")
REFUSE(text_after_quote, "git-upload-pack 'g/p'x")
REFUSE(leading_space, " git-upload-pack 'g/p'")
REFUSE(no_space_before_arg, "git-upload-pack'g/p'")

/* --- commands that are not Git's -------------------------------------------------------- */
REFUSE(git_shell, "git-shell -c 'git-upload-pack g/p'")
REFUSE(scp, "scp -t /tmp/x")
REFUSE(sh_c, "sh -c 'id'")
REFUSE(plain_git, "git")
REFUSE(git_status, "git status")
REFUSE(git_space_dash_verb, "git git-upload-pack 'g/p'")
REFUSE(git_upload_pack_prefix, "git-upload-packx 'g/p'")
REFUSE(uppercase_verb, "GIT-UPLOAD-PACK 'g/p'")
REFUSE(absolute_binary, "/usr/bin/git-upload-pack 'g/p'")
REFUSE(whitespace_only, "   ")
REFUSE(git_lfs, "git-lfs-authenticate g/p download")
REFUSE(sftp, "internal-sftp")

static void test_refuses_overlong_segment(void **state)
{
	char line[GG_COMMAND_MAX];
	int n;

	(void)state;
	n = snprintf(line, sizeof(line), "git-upload-pack 'g/");
	memset(line + n, 'a', GG_COMMAND_SEGMENT_MAX + 1);
	strcpy(line + n + GG_COMMAND_SEGMENT_MAX + 1, "'");
	assert_refused_n(line, strlen(line));
}

static void test_refuses_overlong_path(void **state)
{
	char line[GG_COMMAND_MAX];
	size_t n;

	(void)state;
	n = (size_t)snprintf(line, sizeof(line), "git-upload-pack '");
	while (n + 3 < GG_COMMAND_PATH_MAX + 40) {
		memcpy(line + n, "ab/", 3);
		n += 3;
	}
	strcpy(line + n, "x'");
	assert_refused_n(line, strlen(line));
}

static void test_refuses_overlong_line(void **state)
{
	static char line[GG_COMMAND_MAX + 100];

	(void)state;
	memset(line, ' ', sizeof(line));
	memcpy(line, "git-upload-pack 'g/p'", 21);
	assert_refused_n(line, sizeof(line));
}

static void test_refuses_null_with_length(void **state)
{
	struct gg_command cmd;

	(void)state;
	assert_int_equal(gg_command_parse(&cmd, NULL, 3), GG_COMMAND_EDISALLOWED);
}

static void test_length_is_respected(void **state)
{
	const char *line = "git-upload-pack 'g/p'; id";

	(void)state;
	/* Only the first 21 bytes are the command; what follows is not read. */
	assert_parses(line, 21, GG_CMD_UPLOAD_PACK, "g/p");
	assert_refused_n(line, strlen(line));
}

#define T(name) cmocka_unit_test(name)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_accepts_upload_pack_single_quoted),
	    T(test_accepts_upload_pack_leading_slash),
	    T(test_accepts_receive_pack_single_quoted),
	    T(test_accepts_upload_archive),
	    T(test_accepts_double_quoted),
	    T(test_accepts_unquoted),
	    T(test_accepts_without_dot_git),
	    T(test_accepts_unquoted_leading_slash_no_suffix),
	    T(test_accepts_git_space_upload_pack),
	    T(test_accepts_git_space_receive_pack),
	    T(test_accepts_git_space_upload_archive),
	    T(test_accepts_subgroups),
	    T(test_accepts_allowed_characters),
	    T(test_accepts_only_one_dot_git_removed),
	    T(test_accepts_single_segment),
	    T(test_accepts_several_spaces),
	    T(test_accepts_trailing_space),
	    T(test_accepts_dots_inside_segment),
	    T(test_empty_command_is_welcome),
	    T(test_longest_path_accepted),
	    T(test_action_names),
	    T(test_length_is_respected),

	    T(test_refuses_dotdot_prefix),
	    T(test_refuses_dotdot_inside),
	    T(test_refuses_dotdot_suffix),
	    T(test_refuses_dot_segment),
	    T(test_refuses_dotdot_alone),
	    T(test_refuses_absolute_system_path),
	    T(test_refuses_hidden_segment),
	    T(test_refuses_hidden_inner_segment),
	    T(test_refuses_dot_git_only),
	    T(test_refuses_slash_dot_git),
	    T(test_refuses_empty_segment),
	    T(test_refuses_double_leading_slash),
	    T(test_refuses_trailing_slash),
	    T(test_refuses_trailing_slash_after_git),
	    T(test_refuses_root_only),
	    T(test_refuses_home_tilde),
	    T(test_refuses_backslash),
	    T(test_refuses_option_injection),
	    T(test_refuses_option_injection_unquoted),
	    T(test_refuses_option_in_segment),
	    T(test_refuses_semicolon),
	    T(test_refuses_semicolon_unquoted),
	    T(test_refuses_command_substitution),
	    T(test_refuses_backticks),
	    T(test_refuses_pipe),
	    T(test_refuses_ampersand),
	    T(test_refuses_redirect),
	    T(test_refuses_newline_injection),
	    T(test_refuses_newline_in_path),
	    T(test_refuses_carriage_return),
	    T(test_refuses_tab_separator),
	    T(test_refuses_nul_byte),
	    T(test_refuses_nul_after_arg),
	    T(test_refuses_space_in_path),
	    T(test_refuses_glob),
	    T(test_refuses_utf8),
	    T(test_refuses_no_argument),
	    T(test_refuses_no_argument_trailing_space),
	    T(test_refuses_empty_quoted_argument),
	    T(test_refuses_extra_argument),
	    T(test_refuses_extra_unquoted_argument),
	    T(test_refuses_unbalanced_single),
	    T(test_refuses_unbalanced_double),
	    T(test_refuses_mixed_quotes),
	    T(test_refuses_quote_inside),
	    T(test_refuses_text_after_quote),
	    T(test_refuses_leading_space),
	    T(test_refuses_no_space_before_arg),
	    T(test_refuses_git_shell),
	    T(test_refuses_scp),
	    T(test_refuses_sh_c),
	    T(test_refuses_plain_git),
	    T(test_refuses_git_status),
	    T(test_refuses_git_space_dash_verb),
	    T(test_refuses_git_upload_pack_prefix),
	    T(test_refuses_uppercase_verb),
	    T(test_refuses_absolute_binary),
	    T(test_refuses_whitespace_only),
	    T(test_refuses_git_lfs),
	    T(test_refuses_sftp),
	    T(test_refuses_overlong_segment),
	    T(test_refuses_overlong_path),
	    T(test_refuses_overlong_line),
	    T(test_refuses_null_with_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
