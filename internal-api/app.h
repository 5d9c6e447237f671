/*
 * app.h - the process-wide state of gate-api and the HTTP daemon's lifecycle.
 *
 * One struct gg_app lives for the whole process: the configuration, the
 * shared secret of the internal API, the role (primary or Geo secondary) and
 * the libmicrohttpd daemon.  Requests are served by a pool of worker threads
 * (one per core unless [api] threads says otherwise), each with its own epoll
 * loop and its own store connection, opened the first time the thread needs
 * it and closed when the thread ends.  Nothing else is shared between
 * threads, so the request path takes no locks of ours.
 */
#ifndef GG_APP_H
#define GG_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"

struct MHD_Daemon;

struct gg_app {
	const struct gg_config *cfg; /* not owned */
	char *secret;		     /* the internal API's JWT secret (owned) */
	bool secondary;		     /* [api] role = secondary: a Geo secondary */
	unsigned threads;	     /* worker threads of the daemon */
	uint16_t port;		     /* the port actually bound (useful with port 0) */
	struct MHD_Daemon *daemon;
};

/* Fill app from cfg (kept by reference) and secret (copied).  0 or -1. */
int gg_app_init(struct gg_app *app, const struct gg_config *cfg, const char *secret);

/* Bind [api] listen:port and start serving.  0, or -1 with one line in errbuf
 * (e.g. "cannot listen on 127.0.0.1:8080: Address already in use"). */
int gg_app_start(struct gg_app *app, char *errbuf, size_t errlen);

/* Stop accepting, finish the requests in flight, join the workers (which
 * close their store connections). */
void gg_app_stop(struct gg_app *app);

void gg_app_clear(struct gg_app *app);

/* This thread's store connection, opened on first use with cfg->database_url;
 * NULL (and an error logged) when it cannot be opened.  Closed when the
 * thread exits, or by gg_app_thread_store_close(). */
struct gg_store *gg_app_thread_store(const struct gg_app *app);
void gg_app_thread_store_close(void);

#endif
