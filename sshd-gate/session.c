/*
 * session.c - see session.h.
 *
 * libssh 0.10 drives the login and the channel requests through callbacks
 * and an ssh_event loop; once the one command has arrived the loop ends and
 * the command runs with blocking reads and writes on the channel, which is
 * fine in a process that serves nothing else.  The callback structs live in
 * struct conn for the whole connection: libssh does not copy them.
 */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libssh/callbacks.h>

#include "api_client.h"
#include "dispatch.h"
#include "log.h"
#include "messages.h"
#include "metrics.h"
#include "proxy.h"
#include "util.h"

#define KEY_CACHE_SIZE	     8
#define FP_MAX		     96
#define GIT_PROTOCOL_MAX     256
#define CTL_REPLY_TIMEOUT_MS 5000
#define CLOSE_WAIT_MS	     2000

/* A key offered on this connection and what gate-api said about it. */
struct cached_key {
	char fingerprint[FP_MAX];
	int64_t key_id; /* 0: gate-api does not know the key */
};

struct conn {
	const struct gg_session_params *p;
	ssh_session session;
	struct gg_api_client *api;
	struct ssh_server_callbacks_struct server_cb;

	/* Authentication */
	int failures;
	bool authenticated;
	int64_t key_id;
	char fingerprint[FP_MAX];
	struct cached_key cache[KEY_CACHE_SIZE];
	size_t n_cache;

	/* The one session channel */
	ssh_channel channel;
	struct ssh_channel_callbacks_struct channel_cb;
	char git_protocol[GIT_PROTOCOL_MAX];
	bool have_git_protocol;
	char *command;
	bool have_command;
	bool remote_eof;
	bool remote_closed;

	/* For the closing log line. */
	uint64_t bytes_in, bytes_out;

	bool trimmed; /* malloc_trim() done before the first wait for the client */
};

static void on_login_grace_over(int sig)
{
	(void)sig;
	_exit(GG_SESSION_EXIT_GRACE);
}

/* --- talking to the parent -------------------------------------------------------------- */

static void ctl_send(const struct conn *c, char kind, const char *arg)
{
	char msg[GG_CTL_MAX];
	int n;

	if (c->p->ctl_fd < 0)
		return;
	n = snprintf(msg, sizeof(msg), "%c%s", kind, arg ? arg : "");
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = (int)sizeof(msg) - 1;
	if (send(c->p->ctl_fd, msg, (size_t)n, MSG_NOSIGNAL) < 0)
		gg_warn("cannot reach the parent: %s", strerror(errno));
}

/* Asks the parent whether the user may have one more session. */
static int ask_session_start(void *ctx, const char *gl_id)
{
	struct conn *c = ctx;
	struct pollfd pfd = {c->p->ctl_fd, POLLIN, 0};
	char reply;

	if (c->p->ctl_fd < 0)
		return 0;
	ctl_send(c, GG_CTL_SESSION, gl_id);
	if (poll(&pfd, 1, CTL_REPLY_TIMEOUT_MS) != 1 || recv(c->p->ctl_fd, &reply, 1, 0) != 1) {
		gg_warn("no answer from the parent about the session limit");
		return 0; /* the parent is busy or gone: do not punish the user */
	}
	return reply == GG_CTL_YES ? 0 : -1;
}

/* A read needs gate-api no more: its HTTP connection and libcurl's state go. */
static void release_api(void *ctx)
{
	struct conn *c = ctx;

	gg_api_client_free(c->api);
	c->api = NULL;
}

/* --- authentication ---------------------------------------------------------------------- */

static int auth_failed(struct conn *c)
{
	c->failures++;
	return SSH_AUTH_DENIED;
}

/* "SHA256:..." of key into out. */
static int fingerprint_of(ssh_key key, char out[FP_MAX])
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp = NULL;
	int rc = -1;

	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0)
		goto done;
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	if (fp == NULL || strlen(fp) >= FP_MAX)
		goto done;
	strcpy(out, fp);
	rc = 0;
done:
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	return rc;
}

/*
 * The id gate-api gives the key: > 0 known, 0 unknown, KEY_UNVERIFIED when
 * gate-api cannot be asked.  Asked once per key and connection, and an
 * unreachable gate-api is not asked again on this connection, so that a
 * hung gate-api costs the client one api_timeout, not one per request.
 */
#define KEY_UNVERIFIED (-1)

static int64_t lookup_key(struct conn *c, ssh_key key, const char *fp)
{
	char *blob = NULL;
	int64_t id = 0;
	int rc;

	for (size_t i = 0; i < c->n_cache; i++) {
		if (strcmp(c->cache[i].fingerprint, fp) == 0)
			return c->cache[i].key_id;
		if (c->cache[i].key_id == KEY_UNVERIFIED)
			return KEY_UNVERIFIED;
	}
	if (ssh_pki_export_pubkey_base64(key, &blob) != SSH_OK)
		return 0;
	rc = gg_api_authorized_key(c->api, blob, &id);
	ssh_string_free_char(blob);
	if (rc == GG_API_ENOTFOUND) {
		id = 0;
	} else if (rc != GG_API_OK) {
		gg_error("key lookup: %s", gg_api_client_error(c->api));
		id = KEY_UNVERIFIED;
	}
	if (c->n_cache < KEY_CACHE_SIZE) {
		snprintf(c->cache[c->n_cache].fingerprint, FP_MAX, "%s", fp);
		c->cache[c->n_cache].key_id = id;
		c->n_cache++;
	}
	return id;
}

/*
 * A key gate-api knows is accepted.  So is any key, once its signature is
 * verified, while gate-api cannot be reached: the connection then gets no
 * further than GG_MSG_API_UNREACHABLE (dispatch asks gate-api before
 * anything else and never serves an unverified key), and the user learns
 * why instead of reading "Permission denied".
 */
static int on_auth_pubkey(ssh_session session, const char *user, struct ssh_key_struct *pubkey,
			  char state, void *userdata)
{
	struct conn *c = userdata;
	char fp[FP_MAX];
	int64_t id;

	(void)session;
	if (c->authenticated || c->failures >= GG_SESSION_MAX_AUTH_TRIES)
		return SSH_AUTH_DENIED;
	if (user == NULL || strcmp(user, c->p->cfg->ssh_user) != 0) {
		gg_info("publickey for invalid user from %s", c->p->peer_ip);
		return auth_failed(c);
	}
	if (state != SSH_PUBLICKEY_STATE_NONE && state != SSH_PUBLICKEY_STATE_VALID)
		return auth_failed(c);
	if (fingerprint_of(pubkey, fp) != 0)
		return auth_failed(c);
	id = lookup_key(c, pubkey, fp);
	if (id == 0) {
		gg_info("publickey %s unknown to gate-api", fp);
		gg_metrics_refusal(GG_REFUSAL_UNKNOWN_KEY);
		return auth_failed(c);
	}
	if (state == SSH_PUBLICKEY_STATE_NONE)
		return SSH_AUTH_SUCCESS; /* libssh answers "key acceptable" */

	c->authenticated = true;
	c->key_id = id;
	snprintf(c->fingerprint, sizeof(c->fingerprint), "%s", fp);
	if (id == KEY_UNVERIFIED)
		gg_warn("publickey %s for %s from %s accepted unverified: gate-api unreachable", fp,
			user, c->p->peer_ip);
	else
		gg_info("accepted publickey key-%" PRId64 " %s for %s from %s port %d", id, fp,
			user, c->p->peer_ip, c->p->peer_port);
	ctl_send(c, GG_CTL_AUTHENTICATED, NULL);
	return SSH_AUTH_SUCCESS;
}

/* --- the channel ------------------------------------------------------------------------- */

static int on_env(ssh_session session, ssh_channel channel, const char *name, const char *value,
		  void *userdata)
{
	struct conn *c = userdata;

	(void)session;
	(void)channel;
	if (c->have_command || name == NULL || value == NULL || strcmp(name, "GIT_PROTOCOL") != 0 ||
	    strlen(value) >= sizeof(c->git_protocol)) {
		gg_debug("environment variable refused");
		return 1;
	}
	snprintf(c->git_protocol, sizeof(c->git_protocol), "%s", value);
	c->have_git_protocol = true;
	return 0;
}

static int on_pty(ssh_session session, ssh_channel channel, const char *term, int width, int height,
		  int pxwidth, int pxheight, void *userdata)
{
	(void)session, (void)channel, (void)term, (void)width, (void)height, (void)pxwidth;
	(void)pxheight, (void)userdata;
	return -1;
}

static int set_command(struct conn *c, const char *command)
{
	if (c->have_command)
		return 1;
	c->command = strdup(command);
	if (c->command == NULL)
		return 1;
	c->have_command = true;
	return 0;
}

static int on_exec(ssh_session session, ssh_channel channel, const char *command, void *userdata)
{
	(void)session, (void)channel;
	return set_command(userdata, command ? command : "");
}

/* `ssh git@host` asks for a shell: like GitLab, greet instead of granting one. */
static int on_shell(ssh_session session, ssh_channel channel, void *userdata)
{
	(void)session, (void)channel;
	return set_command(userdata, "");
}

static int on_subsystem(ssh_session session, ssh_channel channel, const char *subsystem,
			void *userdata)
{
	(void)session, (void)channel, (void)subsystem, (void)userdata;
	return 1;
}

static void on_eof(ssh_session session, ssh_channel channel, void *userdata)
{
	(void)session, (void)channel;
	((struct conn *)userdata)->remote_eof = true;
}

static void on_close(ssh_session session, ssh_channel channel, void *userdata)
{
	(void)session, (void)channel;
	((struct conn *)userdata)->remote_closed = true;
}

static ssh_channel on_channel_open(ssh_session session, void *userdata)
{
	struct conn *c = userdata;

	if (!c->authenticated || c->channel != NULL)
		return NULL;
	c->channel = ssh_channel_new(session);
	if (c->channel == NULL)
		return NULL;
	memset(&c->channel_cb, 0, sizeof(c->channel_cb));
	c->channel_cb.userdata = c;
	c->channel_cb.channel_env_request_function = on_env;
	c->channel_cb.channel_pty_request_function = on_pty;
	c->channel_cb.channel_exec_request_function = on_exec;
	c->channel_cb.channel_shell_request_function = on_shell;
	c->channel_cb.channel_subsystem_request_function = on_subsystem;
	c->channel_cb.channel_eof_function = on_eof;
	c->channel_cb.channel_close_function = on_close;
	ssh_callbacks_init(&c->channel_cb);
	if (ssh_set_channel_callbacks(c->channel, &c->channel_cb) != SSH_OK) {
		ssh_channel_free(c->channel);
		c->channel = NULL;
	}
	return c->channel;
}

/*
 * The key exchange, driven here instead of blocking inside libssh, so that
 * the socket is in TCP quick-ACK mode before each wait.  OpenSSH's client
 * sends its KEXINIT and then, on the server's, its ECDH_INIT; without
 * TCP_NODELAY (set for interactive sessions only) the second write waits
 * for the ACK of the first, which Linux delays by up to 40 ms because this
 * side has just sent data (its own KEXINIT).  That wait was most of every
 * connection: an ssh connection took 57 ms and git ls-remote 62 ms here,
 * 13 ms and 22 ms with this.  SSH_OK, or SSH_ERROR (also after timeout_s
 * seconds without the exchange done).
 */
static int key_exchange(struct conn *c, long timeout_s)
{
	int fd = ssh_get_fd(c->session), one = 1, rc;
	struct timespec start, now;
	long left_ms;

	clock_gettime(CLOCK_MONOTONIC, &start);
	ssh_set_blocking(c->session, 0);
	for (;;) {
		setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
		rc = ssh_handle_key_exchange(c->session);
		if (rc != SSH_AGAIN)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left_ms = timeout_s * 1000 - ((now.tv_sec - start.tv_sec) * 1000 +
					      (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left_ms <= 0) {
			gg_info("key exchange with %s: no answer in %ld s", c->p->peer_ip,
				timeout_s);
			rc = SSH_ERROR;
			break;
		}
		struct pollfd pfd = {fd, POLLIN, 0};

		if (ssh_get_poll_flags(c->session) & SSH_WRITE_PENDING)
			pfd.events |= POLLOUT;
		setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
		if (poll(&pfd, 1, left_ms > 1000 ? 1000 : (int)left_ms) < 0 && errno != EINTR) {
			rc = SSH_ERROR;
			break;
		}
	}
	ssh_set_blocking(c->session, 1);
	return rc;
}

/* --- the client's streams, for dispatch -------------------------------------------------- */

static ssize_t client_read(void *ctx, void *buf, size_t len)
{
	struct conn *c = ctx;
	int timeout_ms = c->p->cfg->idle_timeout > 0 ? c->p->cfg->idle_timeout * 1000 : -1;
	int n;

	if (!c->trimmed) {
		/* The first wait for the client (a fetch's "want" lines, a push's
		 * commands) may be long, and many sessions may wait at once: the
		 * heap this process freed since the fork (key exchange, the
		 * access check, the advertisement) goes back to the system. */
		malloc_trim(0);
		c->trimmed = true;
	}
	if (len > (1u << 20))
		len = 1u << 20;
	n = ssh_channel_read_timeout(c->channel, buf, (uint32_t)len, 0, timeout_ms);
	if (n == SSH_ERROR)
		return -1;
	if (n > 0) {
		c->bytes_in += (uint64_t)n;
		return n;
	}
	if (ssh_channel_is_eof(c->channel) || ssh_channel_is_closed(c->channel))
		return 0;
	gg_warn("client idle for %d s", c->p->cfg->idle_timeout);
	return -1;
}

static ssize_t client_write(void *ctx, const void *buf, size_t len)
{
	struct conn *c = ctx;
	int n;

	if (len > (1u << 20))
		len = 1u << 20;
	n = ssh_channel_write(c->channel, buf, (uint32_t)len);
	if (n == SSH_ERROR)
		return -1;
	c->bytes_out += (uint64_t)n;
	return n;
}

static ssize_t client_write_err(void *ctx, const void *buf, size_t len)
{
	struct conn *c = ctx;
	int n;

	if (len > (1u << 20))
		len = 1u << 20;
	n = ssh_channel_write_stderr(c->channel, buf, (uint32_t)len);
	return n == SSH_ERROR ? -1 : n;
}

/* --- the connection ---------------------------------------------------------------------- */

static bool session_closed(ssh_session session)
{
	return (ssh_get_status(session) & (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0;
}

/*
 * Ends the connection with an SSH_MSG_DISCONNECT carrying message, and makes
 * sure the client reads it.  libssh 0.10's ssh_disconnect() queues the packet
 * and closes the socket at once, so the packet goes out only if libssh
 * believes the socket writable, which it forgets after every write until its
 * next poll: the queue is flushed, the socket polled for room, and libssh told
 * so with ssh_set_fd_towrite().  And a socket closed with unread input (the
 * client's next authentication request, already on its way) is reset, which
 * makes the client drop the disconnect and say only "Connection reset": the
 * socket is kept open through a duplicate of its descriptor, shut down for
 * writing after the packet, and drained until the client, having read the
 * message, closes its side (or CLOSE_WAIT_MS passed).
 */
static void disconnect_with(struct conn *c, const char *message)
{
	int fd = fcntl(ssh_get_fd(c->session), F_DUPFD_CLOEXEC, 0);
	struct pollfd pfd;
	struct timespec start, now;
	char buf[4096];
	long left;

	ssh_session_set_disconnect_message(c->session, message);
	ssh_blocking_flush(c->session, CLOSE_WAIT_MS);
	if (fd >= 0) {
		pfd = (struct pollfd){fd, POLLOUT, 0};
		if (poll(&pfd, 1, CLOSE_WAIT_MS) == 1 && (pfd.revents & POLLOUT))
			ssh_set_fd_towrite(c->session);
	}
	ssh_disconnect(c->session);
	if (fd < 0)
		return;
	shutdown(fd, SHUT_WR);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = CLOSE_WAIT_MS - ((now.tv_sec - start.tv_sec) * 1000 +
					(now.tv_nsec - start.tv_nsec) / 1000000);
		pfd = (struct pollfd){fd, POLLIN, 0};
		if (left <= 0 || poll(&pfd, 1, (int)left) != 1 || read(fd, buf, sizeof(buf)) <= 0)
			break;
	}
	close(fd);
}

/* Runs the event loop until a command arrived; false when the connection ended. */
static bool wait_for_command(struct conn *c, ssh_event event)
{
	while (!c->have_command) {
		if (c->failures >= GG_SESSION_MAX_AUTH_TRIES) {
			gg_info("too many authentication failures from %s", c->p->peer_ip);
			gg_metrics_refusal(GG_REFUSAL_AUTH_TRIES);
			disconnect_with(c, GG_MSG_TOO_MANY_AUTH_FAILURES);
			return false;
		}
		if (ssh_event_dopoll(event, 1000) == SSH_ERROR || session_closed(c->session)) {
			gg_info("connection from %s closed %s", c->p->peer_ip,
				c->authenticated ? "before a command" : "before authentication");
			return false;
		}
		if (c->channel && (c->remote_eof || c->remote_closed) && !c->have_command) {
			gg_info("channel closed before a command");
			return false;
		}
	}
	return true;
}

/* Bytes the kernel still holds for the client; -1 when unknown. */
static int unsent_bytes(struct conn *c)
{
	int n;

	return ioctl(ssh_get_fd(c->session), SIOCOUTQ, &n) == 0 ? n : -1;
}

/*
 * Exit status, EOF and close, then wait for the client to close its side, so
 * that everything written reaches it before the connection goes: closing a
 * socket with unread input (the client's window adjustments) resets it and
 * drops what the kernel still had to send.  A slow client may take long to
 * drain its share, so the wait ends only after idle_timeout without
 * progress in the socket's send queue.
 */
static void finish_channel(struct conn *c, int status)
{
	ssh_event event;
	struct timespec start, now;
	int unsent, last_unsent;
	long idle_ms = c->p->cfg->idle_timeout > 0 ? c->p->cfg->idle_timeout * 1000L : 600000L;

	ssh_channel_request_send_exit_status(c->channel, status);
	ssh_channel_send_eof(c->channel);
	ssh_channel_close(c->channel);
	ssh_blocking_flush(c->session, CLOSE_WAIT_MS);
	event = ssh_event_new();
	if (event == NULL || ssh_event_add_session(event, c->session) != SSH_OK)
		goto done;
	clock_gettime(CLOCK_MONOTONIC, &start);
	last_unsent = unsent_bytes(c);
	while (!c->remote_closed && !session_closed(c->session)) {
		if (ssh_event_dopoll(event, 100) == SSH_ERROR)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		unsent = unsent_bytes(c);
		if (unsent > 0 && unsent != last_unsent) {
			start = now; /* the client is still reading */
			last_unsent = unsent;
		}
		/* The kernel's send queue empties as soon as the client's kernel
		 * has the bytes, not when the client has used them: OpenSSH's
		 * client drops what it has not yet written to git when it reads a
		 * disconnect.  So wait for its close, and give up only after
		 * idle_timeout, as during the command: a client starved of CPU
		 * (hundreds of clones at once) may pause for seconds. */
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >
		    idle_ms)
			break;
	}
	ssh_event_remove_session(event, c->session);
done:
	if (event)
		ssh_event_free(event);
}

int gg_session_run(const struct gg_session_params *p)
{
	struct conn c;
	struct gg_session_params pp = *p; /* with the client's address from a PROXY header */
	char client_ip[GG_PROXY_ADDR_MAX];
	bool proxied;
	struct gg_dispatch d;
	struct gg_dispatch_summary summary = {"", "", "", ""};
	ssh_event event = NULL;
	char *cid = NULL;
	long timeout;
	int status = GG_SESSION_EXIT_ERROR, exit_status;
	struct timespec t0, t1;

	memset(&c, 0, sizeof(c));
	c.p = p = &pp;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	signal(SIGALRM, on_login_grace_over);
	if (p->cfg->login_grace_time > 0)
		alarm((unsigned)p->cfg->login_grace_time);

	cid = gg_random_hex(8);
	gg_log_set_correlation_id(cid);
	if (gg_proxy_apply(p->cfg, p->fd, p->peer_ip, p->peer_port, client_ip, &pp.peer_port,
			   &proxied) != 0) {
		gg_metrics_refusal(GG_REFUSAL_PROXY);
		close(p->fd);
		goto done;
	}
	if (proxied)
		gg_info("connection from %s port %d (PROXY header from %s port %d)", client_ip,
			pp.peer_port, p->peer_ip, p->peer_port);
	else
		gg_info("connection from %s port %d", p->peer_ip, p->peer_port);
	pp.peer_ip = client_ip;
	if (gg_api_client_new(&c.api, p->cfg->api_url, p->secret, p->cfg->api_timeout) !=
	    GG_API_OK) {
		gg_error("cannot set up the API client for %s", p->cfg->api_url);
		close(p->fd);
		goto done;
	}
	if (cid)
		gg_api_client_set_request_id(c.api, cid);

	c.session = ssh_new();
	if (c.session == NULL) {
		close(p->fd);
		goto done;
	}
	timeout = p->cfg->login_grace_time > 0 ? p->cfg->login_grace_time : 60;
	ssh_options_set(c.session, SSH_OPTIONS_TIMEOUT, &timeout);
	if (ssh_bind_accept_fd(p->bind, c.session, p->fd) != SSH_OK) {
		gg_error("accept: %s", ssh_get_error(p->bind));
		close(p->fd);
		goto done;
	}
	c.server_cb.userdata = &c;
	c.server_cb.auth_pubkey_function = on_auth_pubkey;
	c.server_cb.channel_open_request_session_function = on_channel_open;
	ssh_callbacks_init(&c.server_cb);
	ssh_set_server_callbacks(c.session, &c.server_cb);
	ssh_set_auth_methods(c.session, SSH_AUTH_METHOD_PUBLICKEY);

	if (key_exchange(&c, timeout) != SSH_OK) {
		gg_info("key exchange with %s failed: %s", p->peer_ip, ssh_get_error(c.session));
		goto done;
	}
	event = ssh_event_new();
	if (event == NULL || ssh_event_add_session(event, c.session) != SSH_OK)
		goto done;
	if (!wait_for_command(&c, event)) {
		status = GG_SESSION_EXIT_OK; /* the client went away; nothing failed here */
		goto done;
	}
	ssh_event_remove_session(event, c.session);
	ssh_event_free(event);
	event = NULL;
	alarm(0);

	/* From here on, silence longer than idle_timeout ends the session. */
	timeout = p->cfg->idle_timeout > 0 ? p->cfg->idle_timeout : 0;
	if (timeout > 0)
		ssh_options_set(c.session, SSH_OPTIONS_TIMEOUT, &timeout);
	memset(&d, 0, sizeof(d));
	d.cfg = p->cfg;
	d.api = c.api;
	d.key_id = c.key_id;
	d.check_ip = p->peer_ip;
	d.git_protocol = c.have_git_protocol ? c.git_protocol : NULL;
	d.io.ctx = &c;
	d.io.read = client_read;
	d.io.write = client_write;
	d.write_err = client_write_err;
	d.session_start = ask_session_start;
	d.release_api = release_api;
	d.session_ctx = &c;
	d.summary = &summary;
	exit_status = gg_dispatch_run(&d, c.command, strlen(c.command));
	finish_channel(&c, exit_status);
	gg_metrics_session(summary.action, summary.result);
	gg_metrics_bytes(c.bytes_in, c.bytes_out);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	gg_info("session of key-%" PRId64 " ended: user=%s command=%s project=%s result=%s "
		"exit=%d bytes_in=%" PRIu64 " bytes_out=%" PRIu64 " duration_ms=%ld",
		c.key_id, summary.user[0] ? summary.user : "-",
		summary.action[0] ? summary.action : "-",
		summary.project[0] ? summary.project : "-",
		summary.result[0] ? summary.result : "-", exit_status, c.bytes_in, c.bytes_out,
		(long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
	status = GG_SESSION_EXIT_OK;
done:
	alarm(0);
	if (event) {
		ssh_event_remove_session(event, c.session);
		ssh_event_free(event);
	}
	if (c.session) {
		ssh_disconnect(c.session);
		/* The channel belongs to the session, which frees it. */
		ssh_free(c.session);
	}
	gg_api_client_free(c.api);
	free(c.command);
	free(cid);
	return status;
}
