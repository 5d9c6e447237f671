/*
 * dispatch.h - what happens once an authenticated key has sent a command:
 * parse it, ask gate-api, and either refuse the way gitlab-shell does or
 * serve Git from the repository gate-api named.
 *
 * sshd-gate runs it over an SSH channel and gate-shell over stdin/stdout, so
 * it knows nothing of the transport: the client's three streams are
 * callbacks.  It decides nothing itself either (SPEC: policy lives in
 * gate-api): every "no" it prints is gate-api's, except a command it cannot
 * parse and a gate-api it cannot reach.  A push is asked about twice, as
 * GitLab does: when the command starts (changes "_any") and again with the
 * real ref changes, after the pack is in quarantine and before any ref moves.
 */
#ifndef GG_SSHD_DISPATCH_H
#define GG_SSHD_DISPATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "api_client.h"
#include "config.h"
#include "git/serve.h"

/* Exit statuses the client sees. */
enum {
	GG_EXIT_OK = 0,
	GG_EXIT_DENIED = 1,	  /* refused by gate-api, or gate-api unreachable */
	GG_EXIT_DISALLOWED = 128, /* a command that is not one of Git's */
};

/* The ruler of gitlab-shell's message boxes: 72 '='. */
#define GG_DISPATCH_RULER "========================================================================"

/* What a session did, for its one closing log line (filled when given). */
struct gg_dispatch_summary {
	char action[32];   /* "git-upload-pack", ... or "" for none */
	char project[512]; /* as parsed, "" when none */
	char user[256];	   /* gl_username when gate-api said who, else "" */
	char result[32];   /* served, denied, disallowed, unreachable, welcome, failed,
			      too_many_sessions */
};

struct gg_dispatch {
	const struct gg_config *cfg;
	struct gg_api_client *api;
	int64_t key_id;		  /* <= 0: gate-api could not verify the key; every
				   * command then ends in GG_MSG_API_UNREACHABLE */
	const char *username;	  /* instead of a key (gate-shell username-U): used
				   * when key_id <= 0; may be NULL */
	const char *check_ip;	  /* the client's address; may be NULL */
	const char *git_protocol; /* GIT_PROTOCOL as sent; may be NULL */
	/* The client's stdin and stdout. */
	struct gg_git_io io;
	/* The client's stderr, called with io.ctx. */
	ssize_t (*write_err)(void *ctx, const void *buf, size_t len);
	/*
	 * Called once access is granted, before serving, with the user's
	 * gl_id ("user-N"): 0 to go ahead, non-zero when the user has too
	 * many sessions.  NULL allows.
	 */
	int (*session_start)(void *ctx, const char *gl_id);
	/*
	 * Called with session_ctx, once access is granted, before a command that
	 * reads (upload-pack, upload-archive) is served: it needs gate-api no
	 * more, and api is not used after this call.  The callback may free it
	 * (and so close the HTTP connection, which gate-api would otherwise keep
	 * for as long as the client negotiates).  NULL keeps it.
	 */
	void (*release_api)(void *ctx);
	void *session_ctx;
	/* Where to say what happened; may be NULL. */
	struct gg_dispatch_summary *summary;
};

/*
 * Run the command (len bytes, not necessarily NUL-terminated) for the key.
 * Returns the exit status to report to the client.
 */
int gg_dispatch_run(const struct gg_dispatch *d, const char *command, size_t len);

/*
 * Write message to the client's stderr framed as gitlab-shell frames a
 * refusal, so that it reads as git's "remote:" lines: a blank line, the
 * ruler, a blank line, the message, a blank line, the ruler, a blank line.
 */
void gg_dispatch_print_box(const struct gg_dispatch *d, const char *message);

/* The protocol version asked for by a GIT_PROTOCOL value: 0, 1 or 2. */
int gg_dispatch_protocol_version(const char *git_protocol);

#endif
