/*
 * app.c - gate-api's process-wide state, its listening socket, and the
 * per-thread store connections (app.h).
 *
 * The socket is bound here rather than by libmicrohttpd so that a port in
 * use is reported as exactly that.  Each worker thread opens its own store
 * connection the first time it serves a request; a pthread key's destructor
 * closes it when libmicrohttpd joins the thread at stop.
 */
#include "app.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "log.h"

static pthread_key_t store_key;
static pthread_once_t store_key_once = PTHREAD_ONCE_INIT;
static _Thread_local struct gg_store *thread_store;

static void close_thread_store(void *p)
{
	gg_store_close(p);
}

static void make_store_key(void)
{
	pthread_key_create(&store_key, close_thread_store);
}

struct gg_store *gg_app_thread_store(const struct gg_app *app)
{
	char err[512];
	struct gg_store *st = NULL;

	if (thread_store)
		return thread_store;
	pthread_once(&store_key_once, make_store_key);
	if (gg_store_open(&st, app->cfg->database_url, err, sizeof(err)) != GG_OK) {
		gg_error("cannot open the store: %s", err); /* err names it, without a password */
		return NULL;
	}
	thread_store = st;
	pthread_setspecific(store_key, st);
	return st;
}

void gg_app_thread_store_close(void)
{
	if (!thread_store)
		return;
	pthread_setspecific(store_key, NULL);
	gg_store_close(thread_store);
	thread_store = NULL;
}

int gg_app_init(struct gg_app *app, const struct gg_config *cfg, const char *secret)
{
	memset(app, 0, sizeof(*app));
	app->cfg = cfg;
	app->secret = strdup(secret ? secret : "");
	if (!app->secret)
		return -1;
	app->secondary = cfg->role && strcmp(cfg->role, "secondary") == 0;
	if (cfg->api_threads > 0) {
		app->threads = (unsigned)cfg->api_threads;
	} else {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		app->threads = n > 0 ? (unsigned)n : 1;
	}
	return 0;
}

/* A listening, non-blocking socket on host:port.  -1 with errbuf filled. */
static int open_listener(const char *host, int port, uint16_t *bound_port, char *errbuf,
			 size_t errlen)
{
	struct addrinfo hints = {0}, *res = NULL;
	struct sockaddr_storage ss = {0};
	socklen_t sslen = sizeof(ss);
	char portstr[16];
	int fd = -1, one = 1, rc, err = 0;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		snprintf(errbuf, errlen, "cannot listen on %s:%d: %s", host, port,
			 gai_strerror(rc));
		return -1;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(errbuf, errlen, "cannot listen on %s:%d: %s", host, port, strerror(err));
		return -1;
	}
	*bound_port = (uint16_t)port;
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0) {
		if (ss.ss_family == AF_INET)
			*bound_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			*bound_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	return fd;
}

int gg_app_start(struct gg_app *app, char *errbuf, size_t errlen)
{
	int fd =
	    open_listener(app->cfg->api_listen, app->cfg->api_port, &app->port, errbuf, errlen);

	if (fd < 0)
		return -1;
	app->daemon = gg_http_daemon_start(app, fd, app->threads);
	if (!app->daemon) {
		close(fd);
		snprintf(errbuf, errlen, "cannot start the HTTP server on %s:%u",
			 app->cfg->api_listen, (unsigned)app->port);
		return -1;
	}
	return 0;
}

void gg_app_stop(struct gg_app *app)
{
	if (app->daemon) {
		MHD_stop_daemon(app->daemon);
		app->daemon = NULL;
	}
	gg_app_thread_store_close();
}

void gg_app_clear(struct gg_app *app)
{
	gg_app_stop(app);
	free(app->secret);
	app->secret = NULL;
}
