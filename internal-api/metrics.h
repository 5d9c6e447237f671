/*
 * metrics.h - gate-api's Prometheus metrics (SPEC §7), served as text at
 * GET /metrics.
 *
 * Counters live in process memory (atomics, no locks on the request path);
 * the gauges that describe the shared state (maintenance, windows, writes in
 * flight) are read from the store at scrape time, so every node reports the
 * same values for them.  /metrics answers callers on a loopback address, or
 * an administrator's token from anywhere.
 */
#ifndef GG_METRICS_H
#define GG_METRICS_H

#include "http.h"

/* Reasons /internal/allowed refuses, as the "reason" label. */
enum gg_refusal {
	GG_REFUSAL_MAINTENANCE,
	GG_REFUSAL_SECONDARY,
	GG_REFUSAL_READ_ONLY_PROJECT,
	GG_REFUSAL_IDENTITY,  /* unknown key or user, blocked user */
	GG_REFUSAL_NOT_FOUND, /* no such project, or not visible */
	GG_REFUSAL_ACCESS,    /* too low an access level, deploy key without push */
	GG_REFUSAL_PROTECTED_BRANCH,
	GG_REFUSAL_INVALID, /* unknown action, malformed request */
	GG_REFUSAL_ERROR,   /* the store failed */
	GG_REFUSAL_COUNT
};

/* One answered HTTP request (http.c). */
void gg_metrics_request(const char *path, int status);

/* One /internal/allowed decision: its duration, and allowed or why not. */
void gg_metrics_allowed(double seconds, bool allowed, enum gg_refusal reason);

/* One push let through in maintenance mode by an exemption. */
void gg_metrics_exempted_write(void);

/* GET /metrics. */
void gg_metrics_handle(struct gg_http_request *req, struct gg_http_response *res);

#endif
