/*
 * metrics.h - sshd-gate's Prometheus counters, shared by the master and every
 * connection's child.
 *
 * A child lives for one connection and cannot be scraped, so the counters
 * live in one MAP_SHARED anonymous mapping made by the master before it forks
 * anything: each child adds to them with atomic operations, and the master
 * serves them as Prometheus text (format 0.0.4) on [ssh] metrics_listen :
 * metrics_port, from its own poll loop (libmicrohttpd without a thread, so
 * the master stays single-threaded and forks stay cheap).
 *
 * Every function here does nothing while gg_metrics_setup() was not called
 * (gate-shell, unit tests), so dispatch.c can count unconditionally.
 */
#ifndef GG_SSHD_METRICS_H
#define GG_SSHD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Why a connection or a command was refused. */
enum gg_metrics_refusal {
	GG_REFUSAL_MAX_STARTUPS,
	GG_REFUSAL_MAX_SESSIONS,
	GG_REFUSAL_PROXY,	      /* PROXY header policy */
	GG_REFUSAL_UNKNOWN_KEY,	      /* a public key gate-api does not know */
	GG_REFUSAL_AUTH_TRIES,	      /* too many authentication failures */
	GG_REFUSAL_DISALLOWED,	      /* not a Git command */
	GG_REFUSAL_DENIED,	      /* gate-api said no (other than maintenance) */
	GG_REFUSAL_MAINTENANCE,	      /* gate-api said no: maintenance mode */
	GG_REFUSAL_UNREACHABLE,	      /* gate-api could not be asked */
	GG_REFUSAL_TOO_MANY_SESSIONS, /* max_sessions_per_user */
	GG_REFUSAL_COUNT
};

/* Make the shared counters; once, in the master, before the first fork. */
int gg_metrics_setup(void);

void gg_metrics_connection(void);
void gg_metrics_refusal(enum gg_metrics_refusal reason);
/* A command's session ended: command as logged ("git-upload-pack", "" for
 * none) and the dispatch result ("served", "denied", ...). */
void gg_metrics_session(const char *command, const char *result);
void gg_metrics_allowed_latency(double seconds);
void gg_metrics_bytes(uint64_t received, uint64_t sent);
/* A push starts / ends in this connection process (the gauge pushes_in_flight). */
void gg_metrics_push_begin(void);
void gg_metrics_push_end(void);
/* The parent reaped connection process pid: a push it had begun and not ended
 * (it was killed, or crashed) no longer counts. */
void gg_metrics_child_gone(pid_t pid);
/* What gate-api's answers last said about maintenance mode. */
void gg_metrics_maintenance_seen(bool on);
void gg_metrics_reload(bool ok);

/*
 * The text of /metrics; connections and sessions in flight are the master's
 * own counts.  Returns a malloc'd string (caller frees) or NULL.
 */
char *gg_metrics_render(size_t connections_in_flight, size_t sessions_in_flight);

#endif
