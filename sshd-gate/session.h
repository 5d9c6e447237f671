/*
 * session.h - one SSH connection, from key exchange to exit status, run in
 * a child process forked for that connection alone.
 *
 * Everything that talks to an unauthenticated peer lives here and can do
 * little: public keys only, only the configured user, a key counts only if
 * gate-api knows it, at most GG_SESSION_MAX_AUTH_TRIES failures, and the
 * whole login bounded by login_grace_time (an alarm that ends the process).
 * After authentication the connection gets one "session" channel that may
 * set GIT_PROTOCOL and run one command (dispatch.h); nothing else is
 * granted: no pty, shell, subsystem, forwarding or further channels.
 *
 * The child tells its parent about its progress over ctl_fd (a SOCK_SEQPACKET
 * socket), so the parent can count unauthenticated connections and sessions
 * per user: see GG_CTL_* below.
 */
#ifndef GG_SSHD_SESSION_H
#define GG_SSHD_SESSION_H

#include <libssh/libssh.h>
#include <libssh/server.h>

#include "config.h"

/* Failed keys before the connection ends with an SSH_MSG_DISCONNECT saying
 * GG_MSG_TOO_MANY_AUTH_FAILURES, as OpenSSH's MaxAuthTries. */
#define GG_SESSION_MAX_AUTH_TRIES 6

/* Child -> parent messages (one packet each); the parent answers
 * GG_CTL_SESSION with GG_CTL_YES or GG_CTL_NO. */
#define GG_CTL_AUTHENTICATED 'A' /* followed by nothing */
#define GG_CTL_SESSION	     'S' /* followed by the gl_id of the user */
#define GG_CTL_YES	     'Y'
#define GG_CTL_NO	     'N'
#define GG_CTL_MAX	     128 /* longest message */

/* Exit statuses of a connection's child, for the parent's log. */
enum {
	GG_SESSION_EXIT_OK = 0,
	GG_SESSION_EXIT_ERROR = 1,
	GG_SESSION_EXIT_GRACE = 2, /* login grace time over */
};

struct gg_session_params {
	const struct gg_config *cfg;
	const char *secret;
	ssh_bind bind; /* host keys loaded */
	int fd;	       /* the accepted connection */
	int ctl_fd;    /* to the parent; -1 when there is none */
	const char *peer_ip;
	int peer_port;
};

/* Serve the connection; returns the process exit status. */
int gg_session_run(const struct gg_session_params *p);

#endif
