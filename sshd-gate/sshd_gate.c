/*
 * sshd_gate.c - the SSH daemon: listens, forks one child per connection
 * (session.c), and keeps the counts behind the connection limits.
 *
 * The parent only accepts, counts and reaps.  It holds no libgit2 state, no
 * libcurl handle and no threads, so a fork is cheap and a crash or an
 * out-of-memory while packing a large repository kills one session, not the
 * daemon.  Children report "authenticated" and ask "may this user start one
 * more session?" over a SOCK_SEQPACKET pair; that is how max_startups
 * (unauthenticated connections), max_sessions (connections in total) and
 * max_sessions_per_user are enforced across processes.
 *
 * SIGTERM or SIGINT: stop accepting, let running sessions finish for up to
 * GG_SHUTDOWN_GRACE seconds, then end the rest.  SIGHUP: read the
 * configuration and the host keys again; running sessions keep what they
 * started with (they are other processes), new connections get the new
 * settings.  A reload that fails keeps everything as it was.
 *
 * The parent also serves /metrics (metrics.h) when [ssh] metrics_port is set,
 * with libmicrohttpd driven from the same poll loop (no thread), and tells
 * systemd when it is ready (sd_notify, Type=notify).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <git2.h>
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <microhttpd.h>

#include "config.h"
#include "hostkeys.h"
#include "log.h"
#include "metrics.h"
#include "prewarm.h"
#include "proxy.h"
#include "sdnotify.h"
#include "session.h"
#include "util.h"

#define GG_SHUTDOWN_GRACE 30 /* s */
#define MAX_LISTENERS	  8

enum child_state { CHILD_UNAUTHENTICATED, CHILD_AUTHENTICATED, CHILD_SESSION };

struct child {
	pid_t pid;
	int ctl_fd; /* -1 once the child closed it */
	enum child_state state;
	char user[GG_CTL_MAX]; /* gl_id, once in CHILD_SESSION */
	char peer[INET6_ADDRSTRLEN + 8];
};

struct daemon_state {
	const char *config_path; /* as given on the command line; NULL: the default */
	struct gg_config cfg;
	char *secret;
	ssh_bind bind;
	int listeners[MAX_LISTENERS];
	size_t n_listeners;
	struct child *children;
	size_t n_children;
	size_t cap_children;
	bool stopping;
	time_t stop_deadline;
	struct MHD_Daemon *metrics; /* NULL when metrics_port = 0 */
};

static int signal_pipe[2] = {-1, -1};
/* serve_forever's poll set, kept here so that a forked child can free it too
 * (valgrind would otherwise count it as lost in every connection process). */
static struct pollfd *poll_set;

static void on_signal(int sig)
{
	unsigned char b = (unsigned char)sig;
	int saved = errno;

	(void)!write(signal_pipe[1], &b, 1);
	errno = saved;
}

static int set_cloexec_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static int install_signals(void)
{
	struct sigaction sa;

	if (pipe(signal_pipe) != 0 || set_cloexec_nonblock(signal_pipe[0]) != 0 ||
	    set_cloexec_nonblock(signal_pipe[1]) != 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* --- listening ---------------------------------------------------------------------------- */

static int open_listeners(const struct gg_config *cfg, int *fds, size_t *n_fds)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[16];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	*n_fds = 0;
	snprintf(port, sizeof(port), "%d", cfg->ssh_port);
	rc = getaddrinfo(cfg->ssh_listen && cfg->ssh_listen[0] ? cfg->ssh_listen : NULL, port,
			 &hints, &res);
	if (rc != 0) {
		gg_error("%s: %s", cfg->ssh_listen, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai && *n_fds < MAX_LISTENERS; ai = ai->ai_next) {
		int one = 1;
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);

		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0 ||
		    set_cloexec_nonblock(fd) != 0) {
			gg_error("listen on %s port %s: %s", cfg->ssh_listen, port,
				 strerror(errno));
			close(fd);
			continue;
		}
		fds[(*n_fds)++] = fd;
	}
	freeaddrinfo(res);
	if (*n_fds == 0)
		return -1;
	gg_info("listening on %s port %s", cfg->ssh_listen, port);
	return 0;
}

static void close_listeners(struct daemon_state *st)
{
	for (size_t i = 0; i < st->n_listeners; i++)
		close(st->listeners[i]);
	st->n_listeners = 0;
}

/* --- the children ------------------------------------------------------------------------ */

static size_t count_state(const struct daemon_state *st, enum child_state state)
{
	size_t n = 0;

	for (size_t i = 0; i < st->n_children; i++)
		n += st->children[i].state == state;
	return n;
}

static size_t count_user_sessions(const struct daemon_state *st, const char *user)
{
	size_t n = 0;

	for (size_t i = 0; i < st->n_children; i++)
		n += st->children[i].state == CHILD_SESSION &&
		     strcmp(st->children[i].user, user) == 0;
	return n;
}

static void peer_name(const struct sockaddr_storage *ss, char *ip, size_t iplen, int *port)
{
	*port = 0;
	snprintf(ip, iplen, "unknown");
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &in->sin_addr, ip, (socklen_t)iplen);
		*port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, (socklen_t)iplen);
		*port = ntohs(in6->sin6_port);
	}
}

/* --- /metrics --------------------------------------------------------------------------- */

static enum MHD_Result on_metrics_request(void *cls, struct MHD_Connection *conn, const char *url,
					  const char *method, const char *version,
					  const char *upload_data, size_t *upload_data_size,
					  void **req_cls)
{
	struct daemon_state *st = cls;
	struct MHD_Response *res;
	unsigned int code = MHD_HTTP_OK;
	char *text = NULL;
	enum MHD_Result ret;

	(void)version, (void)upload_data, (void)req_cls;
	if (*upload_data_size != 0) {
		*upload_data_size = 0; /* a body is ignored */
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		code = MHD_HTTP_METHOD_NOT_ALLOWED;
	else if (strcmp(url, "/metrics") != 0)
		code = MHD_HTTP_NOT_FOUND;
	else
		text = gg_metrics_render(st->n_children, count_state(st, CHILD_SESSION));
	if (code == MHD_HTTP_OK && text == NULL)
		code = MHD_HTTP_INTERNAL_SERVER_ERROR;
	if (text)
		res = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	else
		res = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (res == NULL) {
		free(text);
		return MHD_NO;
	}
	if (text)
		MHD_add_response_header(res, MHD_HTTP_HEADER_CONTENT_TYPE,
					"text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(conn, code, res);
	MHD_destroy_response(res);
	return ret;
}

/* libmicrohttpd without a thread, polled from serve_forever through its epoll fd. */
static struct MHD_Daemon *start_metrics(struct daemon_state *st, const struct gg_config *cfg)
{
	struct addrinfo hints, *res = NULL;
	struct MHD_Daemon *d;
	char port[16];
	int rc;

	if (cfg->ssh_metrics_port <= 0)
		return NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_NUMERICHOST;
	snprintf(port, sizeof(port), "%d", cfg->ssh_metrics_port);
	rc = getaddrinfo(cfg->ssh_metrics_listen, port, &hints, &res);
	if (rc != 0) {
		gg_error("metrics_listen %s: %s", cfg->ssh_metrics_listen, gai_strerror(rc));
		return NULL;
	}
	d = MHD_start_daemon(MHD_USE_EPOLL | (res->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
			     (uint16_t)cfg->ssh_metrics_port, NULL, NULL, on_metrics_request, st,
			     MHD_OPTION_SOCK_ADDR, res->ai_addr, MHD_OPTION_CONNECTION_TIMEOUT,
			     (unsigned int)10, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16,
			     MHD_OPTION_END);
	freeaddrinfo(res);
	if (d == NULL)
		gg_error("cannot serve /metrics on %s port %d", cfg->ssh_metrics_listen,
			 cfg->ssh_metrics_port);
	else
		gg_info("metrics on http://%s:%d/metrics", cfg->ssh_metrics_listen,
			cfg->ssh_metrics_port);
	return d;
}

static int metrics_fd(struct daemon_state *st)
{
	const union MHD_DaemonInfo *info;

	if (st->metrics == NULL)
		return -1;
	info = MHD_get_daemon_info(st->metrics, MHD_DAEMON_INFO_EPOLL_FD);
	return info ? info->epoll_fd : -1;
}

/* In the child: every descriptor but the standard ones, the connection and
 * the parent's socket goes (listeners, /metrics and its clients, children's
 * sockets), so that no process but the parent keeps a port or a scrape open. */
static void close_other_fds(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	if (lo > 3)
		close_range(3, (unsigned)lo - 1, 0);
	if (hi > lo + 1)
		close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
	close_range((unsigned)hi + 1, ~0U, 0);
}

/* In the child: drop what belongs to the parent and serve the connection. */
static void run_child(struct daemon_state *st, int fd, int ctl_fd, const char *ip, int port)
{
	struct gg_session_params p = {&st->cfg, st->secret, st->bind, fd, ctl_fd, ip, port};
	int status;

	close_listeners(st);
	for (size_t i = 0; i < st->n_children; i++)
		if (st->children[i].ctl_fd >= 0)
			close(st->children[i].ctl_fd);
	close(signal_pipe[0]);
	close(signal_pipe[1]);
	close_other_fds(fd, ctl_fd);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_IGN); /* a reload is the parent's business */
	status = gg_session_run(&p);
	close(ctl_fd);
	ssh_bind_free(st->bind);
	free(st->children);
	free(st->secret);
	free(poll_set);
	gg_config_clear(&st->cfg);
	ssh_finalize();
	exit(status);
}

static void accept_one(struct daemon_state *st, int lfd)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char ip[INET6_ADDRSTRLEN];
	int fd, port, one = 1, pair[2];
	size_t unauth;
	pid_t pid;

	fd = accept4(lfd, (struct sockaddr *)&ss, &sslen, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			gg_warn("accept: %s", strerror(errno));
		return;
	}
	peer_name(&ss, ip, sizeof(ip), &port);
	gg_metrics_connection();
	unauth = count_state(st, CHILD_UNAUTHENTICATED);
	if (st->cfg.max_startups > 0 && unauth >= (size_t)st->cfg.max_startups) {
		gg_warn("drop connection from %s port %d: %zu unauthenticated connections "
			"(max_startups)",
			ip, port, unauth);
		gg_metrics_refusal(GG_REFUSAL_MAX_STARTUPS);
		close(fd);
		return;
	}
	if (st->cfg.max_sessions > 0 && st->n_children >= (size_t)st->cfg.max_sessions) {
		gg_warn("drop connection from %s port %d: %zu connections (max_sessions)", ip, port,
			st->n_children);
		gg_metrics_refusal(GG_REFUSAL_MAX_SESSIONS);
		close(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (st->n_children == st->cap_children) {
		size_t cap = st->cap_children ? 2 * st->cap_children : 64;
		struct child *n = realloc(st->children, cap * sizeof(*n));

		if (n == NULL) {
			close(fd);
			return;
		}
		st->children = n;
		st->cap_children = cap;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
		gg_error("socketpair: %s", strerror(errno));
		close(fd);
		return;
	}
	pid = fork();
	if (pid < 0) {
		gg_error("fork: %s", strerror(errno));
		close(fd);
		close(pair[0]);
		close(pair[1]);
		return;
	}
	if (pid == 0) {
		close(pair[0]);
		run_child(st, fd, pair[1], ip, port);
	}
	close(fd);
	close(pair[1]);
	set_cloexec_nonblock(pair[0]);
	st->children[st->n_children] = (struct child){pid, pair[0], CHILD_UNAUTHENTICATED, "", ""};
	snprintf(st->children[st->n_children].peer, sizeof(st->children[0].peer), "%s:%d", ip,
		 port);
	st->n_children++;
}

static void handle_ctl(struct daemon_state *st, struct child *ch)
{
	char msg[GG_CTL_MAX + 1];
	ssize_t n = recv(ch->ctl_fd, msg, GG_CTL_MAX, 0);

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			close(ch->ctl_fd);
			ch->ctl_fd = -1;
		}
		return;
	}
	msg[n] = '\0';
	switch (msg[0]) {
	case GG_CTL_AUTHENTICATED:
		if (ch->state == CHILD_UNAUTHENTICATED)
			ch->state = CHILD_AUTHENTICATED;
		break;
	case GG_CTL_SESSION: {
		const char *user = msg + 1;
		bool ok = st->cfg.max_sessions_per_user <= 0 ||
			  count_user_sessions(st, user) < (size_t)st->cfg.max_sessions_per_user;
		char reply = ok ? GG_CTL_YES : GG_CTL_NO;

		if (ok) {
			ch->state = CHILD_SESSION;
			snprintf(ch->user, sizeof(ch->user), "%s", user);
		} else {
			gg_warn("%s has %d sessions (max_sessions_per_user)", user,
				st->cfg.max_sessions_per_user);
		}
		if (send(ch->ctl_fd, &reply, 1, MSG_NOSIGNAL) != 1)
			gg_warn("cannot answer child %d", (int)ch->pid);
		break;
	}
	default:
		gg_warn("unknown message from child %d", (int)ch->pid);
	}
}

static void reap_children(struct daemon_state *st)
{
	int wstatus;
	pid_t pid;

	while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
		gg_metrics_child_gone(pid);
		for (size_t i = 0; i < st->n_children; i++) {
			struct child *ch = &st->children[i];

			if (ch->pid != pid)
				continue;
			if (WIFSIGNALED(wstatus))
				gg_warn("connection %s (pid %d) killed by signal %d", ch->peer,
					(int)pid, WTERMSIG(wstatus));
			else if (WEXITSTATUS(wstatus) == GG_SESSION_EXIT_GRACE)
				gg_info("connection %s (pid %d): login grace time over", ch->peer,
					(int)pid);
			else if (WEXITSTATUS(wstatus) != 0)
				gg_info("connection %s (pid %d) exited with status %d", ch->peer,
					(int)pid, WEXITSTATUS(wstatus));
			if (ch->ctl_fd >= 0)
				close(ch->ctl_fd);
			*ch = st->children[--st->n_children];
			break;
		}
	}
}

static void begin_shutdown(struct daemon_state *st)
{
	if (st->stopping)
		return;
	st->stopping = true;
	st->stop_deadline = time(NULL) + GG_SHUTDOWN_GRACE;
	gg_sd_notify("STOPPING=1");
	close_listeners(st);
	gg_info("stopping: no new connections; waiting up to %d s for %zu sessions",
		GG_SHUTDOWN_GRACE, st->n_children);
}

static void end_remaining_children(struct daemon_state *st)
{
	gg_warn("grace period over: ending %zu sessions", st->n_children);
	for (size_t i = 0; i < st->n_children; i++)
		kill(st->children[i].pid, SIGTERM);
	for (int tries = 0; tries < 20 && st->n_children > 0; tries++) {
		usleep(100 * 1000);
		reap_children(st);
	}
	while (st->n_children > 0) {
		struct child *ch = &st->children[--st->n_children];

		kill(ch->pid, SIGKILL);
		waitpid(ch->pid, NULL, 0);
		if (ch->ctl_fd >= 0)
			close(ch->ctl_fd);
	}
}

/* What the configuration must get right before the daemon uses it. */
static int check_config(const struct gg_config *cfg, char *err, size_t errlen)
{
	int policy = gg_proxy_policy_parse(cfg->ssh_proxy_protocol);

	if (policy < 0) {
		snprintf(err, errlen,
			 "[ssh] proxy_protocol: not use, require, reject or ignore: %s",
			 cfg->ssh_proxy_protocol);
		return -1;
	}
	if (gg_proxy_cidr_match(cfg->ssh_proxy_allowed_cidrs, NULL) < 0) {
		snprintf(err, errlen, "[ssh] proxy_allowed_cidrs: not a list of networks: %s",
			 cfg->ssh_proxy_allowed_cidrs);
		return -1;
	}
	if ((policy == GG_PROXY_USE || policy == GG_PROXY_REQUIRE) &&
	    strspn(cfg->ssh_proxy_allowed_cidrs, ", \t") == strlen(cfg->ssh_proxy_allowed_cidrs)) {
		snprintf(err, errlen,
			 "[ssh] proxy_protocol = %s needs proxy_allowed_cidrs (the proxies' "
			 "addresses)",
			 cfg->ssh_proxy_protocol);
		return -1;
	}
	return 0;
}

static bool same_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/*
 * SIGHUP: the configuration file, the secret and the host keys again.  All
 * of it is made aside first; only when everything is there does it replace
 * the running state, so a broken file or a missing key changes nothing.
 */
static void reload(struct daemon_state *st)
{
	struct gg_config cfg;
	ssh_bind bind = NULL;
	char *secret = NULL, err[512];
	int fds[MAX_LISTENERS];
	size_t n_fds = 0;
	bool new_listeners, new_metrics;
	struct MHD_Daemon *metrics = NULL;

	gg_sd_notify("RELOADING=1");
	gg_info("SIGHUP: reloading %s", st->cfg.path ? st->cfg.path : "the configuration");
	gg_config_init(&cfg);
	if (gg_config_load(&cfg, st->config_path, err, sizeof(err)) != 0 ||
	    check_config(&cfg, err, sizeof(err)) != 0)
		goto failed;
	secret = gg_config_read_secret(&cfg, err, sizeof(err));
	if (secret == NULL)
		goto failed;
	bind = ssh_bind_new();
	if (bind == NULL || gg_hostkeys_setup(bind, cfg.host_key_dir, err, sizeof(err)) != 0) {
		if (bind == NULL)
			snprintf(err, sizeof(err), "out of memory");
		goto failed;
	}
	new_listeners = !st->stopping && (!same_str(cfg.ssh_listen, st->cfg.ssh_listen) ||
					  cfg.ssh_port != st->cfg.ssh_port);
	if (new_listeners) {
		close_listeners(st); /* the same port may be named differently */
		if (open_listeners(&cfg, fds, &n_fds) != 0) {
			snprintf(err, sizeof(err), "cannot listen on %s port %d", cfg.ssh_listen,
				 cfg.ssh_port);
			if (open_listeners(&st->cfg, st->listeners, &st->n_listeners) != 0)
				gg_error("cannot listen on the old address either");
			goto failed;
		}
		memcpy(st->listeners, fds, n_fds * sizeof(fds[0]));
		st->n_listeners = n_fds;
	}
	new_metrics = !same_str(cfg.ssh_metrics_listen, st->cfg.ssh_metrics_listen) ||
		      cfg.ssh_metrics_port != st->cfg.ssh_metrics_port;
	if (new_metrics) {
		if (st->metrics)
			MHD_stop_daemon(st->metrics);
		st->metrics = NULL;
		metrics = start_metrics(st, &cfg);
		if (metrics == NULL && cfg.ssh_metrics_port > 0)
			gg_warn("reload: /metrics is off until the next reload");
		st->metrics = metrics;
	}
	ssh_bind_free(st->bind);
	st->bind = bind;
	free(st->secret);
	st->secret = secret;
	gg_config_clear(&st->cfg);
	st->cfg = cfg;
	/* Said in the old log format and level, which the new ones may silence. */
	gg_info("reloaded: proxy_protocol=%s log_level=%s log_format=%s; %zu running connections "
		"keep their settings",
		st->cfg.ssh_proxy_protocol, st->cfg.log_level, st->cfg.log_format, st->n_children);
	gg_log_setup("sshd-gate", st->cfg.log_level, st->cfg.log_format);
	gg_metrics_reload(true);
	gg_sd_notify("READY=1");
	return;
failed:
	gg_error("reload failed, nothing changed: %s", err);
	if (bind)
		ssh_bind_free(bind);
	free(secret);
	gg_config_clear(&cfg);
	gg_metrics_reload(false);
	gg_sd_notify("READY=1");
}

static int serve_forever(struct daemon_state *st)
{
	struct pollfd *pfds = NULL;
	size_t cap = 0;
	int rc = 0;

	while (!st->stopping || st->n_children > 0) {
		size_t n = 0, need = 2 + st->n_listeners + st->n_children;
		int timeout = -1, mfd = metrics_fd(st);
		bool changed = false;

		if (need > cap) {
			struct pollfd *np = realloc(pfds, need * sizeof(*np));

			if (np == NULL) {
				rc = -1;
				break;
			}
			pfds = poll_set = np;
			cap = need;
		}
		pfds[n++] = (struct pollfd){signal_pipe[0], POLLIN, 0};
		for (size_t i = 0; i < st->n_listeners; i++)
			pfds[n++] = (struct pollfd){st->listeners[i], POLLIN, 0};
		for (size_t i = 0; i < st->n_children; i++)
			pfds[n++] = (struct pollfd){st->children[i].ctl_fd, POLLIN, 0};
		if (mfd >= 0) {
			MHD_UNSIGNED_LONG_LONG mto;

			pfds[n++] = (struct pollfd){mfd, POLLIN, 0};
			if (MHD_get_timeout(st->metrics, &mto) == MHD_YES)
				timeout = mto < 1000 ? (int)mto : 1000;
		}
		if (st->stopping) {
			time_t left = st->stop_deadline - time(NULL);

			if (left <= 0) {
				end_remaining_children(st);
				break;
			}
			if (timeout < 0 || timeout > (int)left * 1000)
				timeout = (int)left * 1000;
		}
		if (poll(pfds, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			gg_error("poll: %s", strerror(errno));
			rc = -1;
			break;
		}
		if (pfds[0].revents & POLLIN) {
			unsigned char sig;

			while (read(signal_pipe[0], &sig, 1) == 1) {
				if (sig == SIGCHLD) {
					reap_children(st);
				} else if (sig == SIGHUP) {
					reload(st);
					changed = true;
				} else {
					begin_shutdown(st);
				}
			}
		}
		if (st->metrics && mfd == metrics_fd(st))
			MHD_run(st->metrics); /* does not block */
		if (changed)
			continue; /* listeners may have moved: poll again */
		for (size_t i = 0; i < st->n_children; i++) {
			struct pollfd *pf = &pfds[1 + st->n_listeners + i];

			/* Level-triggered: an event skipped because slots moved comes back. */
			if (pf->fd >= 0 && pf->fd == st->children[i].ctl_fd &&
			    (pf->revents & (POLLIN | POLLHUP)))
				handle_ctl(st, &st->children[i]);
		}
		for (size_t i = 0; i < st->n_listeners && !st->stopping; i++)
			if (pfds[1 + i].revents & POLLIN)
				accept_one(st, st->listeners[i]);
	}
	free(pfds);
	poll_set = NULL;
	return rc;
}

/* --- main ------------------------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sshd-gate [--config FILE] [--print-host-keys] [--help] [--version]\n"
		"\n"
		"The SSH front of gitgate: serves git clone, fetch and push for the keys\n"
		"gate-api knows, obeying its access checks and maintenance mode.\n"
		"\n"
		"  -c, --config FILE     configuration file (default " GG_DEFAULT_CONFIG_PATH ",\n"
		"                        or $GITGATE_CONFIG)\n"
		"      --print-host-keys print the SHA256 fingerprints of the host keys\n"
		"                        (generating them if missing) and exit\n"
		"  -h, --help            this text\n"
		"  -V, --version         the version\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"print-host-keys", no_argument, NULL, 'P'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct daemon_state st;
	const char *config_path = NULL;
	bool print_keys = false;
	char err[512];
	int opt, rc = 1;

	memset(&st, 0, sizeof(st));
	gg_config_init(&st.cfg);
	while ((opt = getopt_long(argc, argv, "c:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'P':
			print_keys = true;
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto done;
		case 'V':
			printf("sshd-gate %s\n", GG_VERSION);
			rc = 0;
			goto done;
		default:
			usage(stderr);
			rc = 2;
			goto done;
		}
	}
	if (optind != argc) {
		usage(stderr);
		rc = 2;
		goto done;
	}
	if (gg_config_load(&st.cfg, config_path, err, sizeof(err)) != 0) {
		fprintf(stderr, "sshd-gate: %s\n", err);
		goto done;
	}
	gg_log_setup("sshd-gate", st.cfg.log_level, st.cfg.log_format);
	st.config_path = config_path;
	if (check_config(&st.cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "sshd-gate: %s\n", err);
		goto done;
	}
	if (print_keys) {
		if (gg_hostkeys_print(stdout, st.cfg.host_key_dir, err, sizeof(err)) != 0) {
			fprintf(stderr, "sshd-gate: %s\n", err);
			goto done;
		}
		rc = 0;
		goto done;
	}
	st.secret = gg_config_read_secret(&st.cfg, err, sizeof(err));
	if (st.secret == NULL) {
		gg_error("%s", err);
		goto done;
	}
	st.bind = ssh_bind_new();
	if (st.bind == NULL ||
	    gg_hostkeys_setup(st.bind, st.cfg.host_key_dir, err, sizeof(err)) != 0) {
		gg_error("host keys: %s", st.bind ? err : "out of memory");
		goto done;
	}
	if (gg_metrics_setup() != 0) {
		gg_error("metrics: cannot map the shared counters: %s", strerror(errno));
		goto done;
	}
	if (install_signals() != 0 || open_listeners(&st.cfg, st.listeners, &st.n_listeners) != 0)
		goto done;
	st.metrics = start_metrics(&st, &st.cfg);
	if (st.metrics == NULL && st.cfg.ssh_metrics_port > 0)
		goto done;
	/*
	 * Initialise libcurl (with OpenSSL) and libgit2 once here, so that every
	 * connection process shares their pages copy-on-write instead of building
	 * its own copy (memory per session).  Neither starts a thread.
	 */
	mallopt(M_ARENA_MAX, 1); /* one heap: a helper thread (resolver, indexer) adds no arena */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || git_libgit2_init() < 0) {
		gg_error("cannot initialise libcurl or libgit2");
		goto done;
	}
	gg_prewarm_crypto();	 /* OpenSSL's state for what a session uses, shared too */
	gg_sd_notify("READY=1"); /* the port is listening: connections are accepted from now on */
	rc = serve_forever(&st) == 0 ? 0 : 1;
	gg_info("stopped");
done:
	if (st.metrics)
		MHD_stop_daemon(st.metrics);
	close_listeners(&st);
	if (st.bind)
		ssh_bind_free(st.bind);
	free(st.children);
	free(st.secret);
	gg_config_clear(&st.cfg);
	ssh_finalize();
	return rc;
}
