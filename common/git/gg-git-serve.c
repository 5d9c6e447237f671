/*
 * gg-git-serve - runs one gitgate Git service on stdin/stdout.
 *
 * A test driver, not installed: it lets real git talk to the library the
 * way it talks to git-upload-pack over a pipe,
 *
 *   git clone --upload-pack='gg-git-serve upload-pack' file:///srv/x.git
 *   git push --receive-pack='gg-git-serve receive-pack' ...
 *
 * git appends the repository path as the last argument and passes
 * GIT_PROTOCOL=version=2 in the environment when it wants v2.
 *
 * Environment knobs for tests (this program only; the library has none):
 *   GG_GIT_SERVE_REFUSE="msg"     check_changes refuses every push with msg
 *   GG_GIT_SERVE_ECHO_OPTIONS=1   post_receive prints the push options
 *   GG_GIT_SERVE_KEEPALIVE=<s>    upload-pack keep-alive interval
 *   GG_GIT_SERVE_HIDE=<prefix>    refs starting with prefix are hidden from fetches
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "serve.h"

struct fds {
	int in, out;
};

static ssize_t fd_read(void *ctx, void *buf, size_t len)
{
	return read(((struct fds *)ctx)->in, buf, len);
}

static ssize_t fd_write(void *ctx, const void *buf, size_t len)
{
	return write(((struct fds *)ctx)->out, buf, len);
}

static int parse_protocol_version(const char *env)
{
	/* GIT_PROTOCOL is a colon-separated list of key=value; take the highest version. */
	const char *p = env;
	int version = 0;

	while (p && *p) {
		if (!strncmp(p, "version=", 8)) {
			int v = atoi(p + 8);

			if (v > version && v <= 2)
				version = v;
		}
		p = strchr(p, ':');
		if (p)
			p++;
	}
	return version;
}

static int refuse_if_asked(void *ctx, const char *changes, char *message, size_t msglen)
{
	const char *refuse = getenv("GG_GIT_SERVE_REFUSE");

	(void)ctx;
	(void)changes;
	if (!refuse)
		return 0;
	snprintf(message, msglen, "%s", refuse);
	return 1;
}

static void echo_push_options(void *ctx, const char *changes, const char *const *push_options,
			      size_t n, char *message, size_t msglen)
{
	size_t i, len = 0;

	(void)ctx;
	(void)changes;
	if (!getenv("GG_GIT_SERVE_ECHO_OPTIONS"))
		return;
	for (i = 0; i < n && len < msglen; i++) {
		int w = snprintf(message + len, msglen - len, "push option: %s\n", push_options[i]);

		if (w < 0)
			break;
		len += (size_t)w;
	}
}

static int hide_if_asked(void *ctx, const char *refname)
{
	const char *prefix = ctx;

	return !strncmp(refname, prefix, strlen(prefix));
}

static void usage(void)
{
	fprintf(stderr, "usage: gg-git-serve upload-pack|receive-pack|upload-archive REPO\n");
}

int main(int argc, char **argv)
{
	struct fds fds = {STDIN_FILENO, STDOUT_FILENO};
	struct gg_git_io io = {&fds, fd_read, fd_write};
	const char *service, *repo;
	const git_error *e;
	int error;

	if (argc != 3) {
		usage();
		return 128;
	}
	service = argv[1];
	repo = argv[2];
	if (!strncmp(service, "git-", 4))
		service += 4;
	signal(SIGPIPE, SIG_IGN);
	git_libgit2_init();

	if (!strcmp(service, "upload-pack")) {
		struct gg_upload_pack_options opts = {0};
		const char *keepalive = getenv("GG_GIT_SERVE_KEEPALIVE");

		if (keepalive)
			opts.keepalive_seconds = (unsigned)atoi(keepalive);
		if (getenv("GG_GIT_SERVE_HIDE")) {
			opts.hide_ref = hide_if_asked;
			opts.ctx = getenv("GG_GIT_SERVE_HIDE");
		}

		error = gg_upload_pack(repo, &io, parse_protocol_version(getenv("GIT_PROTOCOL")),
				       &opts);
	} else if (!strcmp(service, "receive-pack")) {
		struct gg_receive_pack_options opts = {0};

		opts.check_changes = refuse_if_asked;
		opts.post_receive = echo_push_options;
		error = gg_receive_pack(repo, &io, &opts);
	} else if (!strcmp(service, "upload-archive")) {
		struct gg_upload_archive_options opts = {0};

		if (getenv("GG_GIT_SERVE_HIDE")) {
			opts.hide_ref = hide_if_asked;
			opts.ctx = getenv("GG_GIT_SERVE_HIDE");
		}
		error = gg_upload_archive(repo, &io, &opts);
	} else {
		usage();
		git_libgit2_shutdown();
		return 128;
	}
	if (error < 0) {
		e = git_error_last();
		fprintf(stderr, "gg-git-serve: %s\n", e && e->message ? e->message : "failed");
	}
	git_libgit2_shutdown();
	return error < 0 ? 1 : 0;
}
