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
 * GG_SHUTDOWN_GRACE seconds, then end the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "config.h"
#include "hostkeys.h"
#include "log.h"
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
};

static int signal_pipe[2] = {-1, -1};

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
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* --- listening ---------------------------------------------------------------------------- */

static int open_listeners(struct daemon_state *st)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[16];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", st->cfg.ssh_port);
	rc = getaddrinfo(st->cfg.ssh_listen && st->cfg.ssh_listen[0] ? st->cfg.ssh_listen : NULL,
			 port, &hints, &res);
	if (rc != 0) {
		gg_error("%s: %s", st->cfg.ssh_listen, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai && st->n_listeners < MAX_LISTENERS; ai = ai->ai_next) {
		int one = 1;
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);

		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0 ||
		    set_cloexec_nonblock(fd) != 0) {
			gg_error("listen on %s port %s: %s", st->cfg.ssh_listen, port,
				 strerror(errno));
			close(fd);
			continue;
		}
		st->listeners[st->n_listeners++] = fd;
	}
	freeaddrinfo(res);
	if (st->n_listeners == 0)
		return -1;
	gg_info("listening on %s port %s", st->cfg.ssh_listen, port);
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
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	status = gg_session_run(&p);
	close(ctl_fd);
	ssh_bind_free(st->bind);
	free(st->children);
	free(st->secret);
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
	unauth = count_state(st, CHILD_UNAUTHENTICATED);
	if (st->cfg.max_startups > 0 && unauth >= (size_t)st->cfg.max_startups) {
		gg_warn("drop connection from %s port %d: %zu unauthenticated connections "
			"(max_startups)",
			ip, port, unauth);
		close(fd);
		return;
	}
	if (st->cfg.max_sessions > 0 && st->n_children >= (size_t)st->cfg.max_sessions) {
		gg_warn("drop connection from %s port %d: %zu connections (max_sessions)", ip, port,
			st->n_children);
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

static int serve_forever(struct daemon_state *st)
{
	struct pollfd *pfds = NULL;
	size_t cap = 0;
	int rc = 0;

	while (!st->stopping || st->n_children > 0) {
		size_t n = 0, need = 1 + st->n_listeners + st->n_children;
		int timeout = -1;

		if (need > cap) {
			struct pollfd *np = realloc(pfds, need * sizeof(*np));

			if (np == NULL) {
				rc = -1;
				break;
			}
			pfds = np;
			cap = need;
		}
		pfds[n++] = (struct pollfd){signal_pipe[0], POLLIN, 0};
		for (size_t i = 0; i < st->n_listeners; i++)
			pfds[n++] = (struct pollfd){st->listeners[i], POLLIN, 0};
		for (size_t i = 0; i < st->n_children; i++)
			pfds[n++] = (struct pollfd){st->children[i].ctl_fd, POLLIN, 0};
		if (st->stopping) {
			time_t left = st->stop_deadline - time(NULL);

			if (left <= 0) {
				end_remaining_children(st);
				break;
			}
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
				if (sig == SIGCHLD)
					reap_children(st);
				else
					begin_shutdown(st);
			}
		}
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
	if (install_signals() != 0 || open_listeners(&st) != 0)
		goto done;
	rc = serve_forever(&st) == 0 ? 0 : 1;
	gg_info("stopped");
done:
	close_listeners(&st);
	if (st.bind)
		ssh_bind_free(st.bind);
	free(st.children);
	free(st.secret);
	gg_config_clear(&st.cfg);
	ssh_finalize();
	return rc;
}
