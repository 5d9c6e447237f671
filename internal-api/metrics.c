/*
 * metrics.c - see metrics.h.
 *
 * Requests are counted by route class (not by path, which would make one
 * series per project) and exact status code.  The check latency histogram
 * has fixed buckets from 0.5 ms to 1 s, where an access check lives.
 */
#include "metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "log.h"
#include "messages.h"
#include "store.h"

enum route_class {
	ROUTE_INTERNAL_ALLOWED,
	ROUTE_INTERNAL,
	ROUTE_API,
	ROUTE_GRAPHQL,
	ROUTE_REGISTRY,
	ROUTE_METRICS,
	ROUTE_WEB,
	ROUTE_COUNT
};

static const char *const route_names[ROUTE_COUNT] = {
    "internal_allowed", "internal", "api", "graphql", "registry", "metrics", "web",
};

static const char *const refusal_names[GG_REFUSAL_COUNT] = {
    "maintenance", "secondary",	       "read_only_project", "identity", "not_found",
    "access",	   "protected_branch", "invalid",	    "error",
};

static const double latency_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
					 0.05,	 0.1,	0.25,	0.5,   1.0};
#define N_BUCKETS (sizeof(latency_buckets) / sizeof(latency_buckets[0]))

static atomic_ullong requests[ROUTE_COUNT][600];
static atomic_ullong allowed_total[2]; /* [0] refused, [1] allowed */
static atomic_ullong refusals[GG_REFUSAL_COUNT];
static atomic_ullong latency_count[N_BUCKETS + 1]; /* per bucket, not cumulative */
static atomic_ullong latency_sum_us;
static atomic_ullong exempted_writes;

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static enum route_class classify(const char *path)
{
	if (!path)
		return ROUTE_WEB;
	if (strcmp(path, "/api/v4/internal/allowed") == 0)
		return ROUTE_INTERNAL_ALLOWED;
	if (starts_with(path, "/api/v4/internal/") || starts_with(path, "/api/v3/internal/"))
		return ROUTE_INTERNAL;
	if (starts_with(path, "/api/graphql"))
		return ROUTE_GRAPHQL;
	if (starts_with(path, "/api/"))
		return ROUTE_API;
	if (starts_with(path, "/jwt/"))
		return ROUTE_REGISTRY;
	if (strcmp(path, "/metrics") == 0)
		return ROUTE_METRICS;
	return ROUTE_WEB;
}

void gg_metrics_request(const char *path, int status)
{
	if (status < 100 || status > 599)
		return;
	atomic_fetch_add_explicit(&requests[classify(path)][status], 1, memory_order_relaxed);
}

void gg_metrics_allowed(double seconds, bool allowed, enum gg_refusal reason)
{
	size_t b = 0;

	while (b < N_BUCKETS && seconds > latency_buckets[b])
		b++;
	atomic_fetch_add_explicit(&latency_count[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&latency_sum_us,
				  (unsigned long long)(seconds > 0 ? seconds * 1e6 : 0),
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&allowed_total[allowed ? 1 : 0], 1, memory_order_relaxed);
	if (!allowed && reason < GG_REFUSAL_COUNT)
		atomic_fetch_add_explicit(&refusals[reason], 1, memory_order_relaxed);
}

void gg_metrics_exempted_write(void)
{
	atomic_fetch_add_explicit(&exempted_writes, 1, memory_order_relaxed);
}

static unsigned long long get(atomic_ullong *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static bool is_loopback(const char *ip)
{
	return ip && (gg_cidr_contains("127.0.0.0/8", ip) || gg_cidr_contains("::1/128", ip));
}

static int write_counters(struct gg_buf *b)
{
	unsigned long long cumulative = 0;
	int rc = 0;

	rc |= gg_buf_puts(b, "# HELP gitgate_api_requests_total HTTP requests answered, by route"
			     " class and status.\n# TYPE gitgate_api_requests_total counter\n");
	for (int c = 0; c < ROUTE_COUNT; c++)
		for (int s = 100; s < 600; s++) {
			unsigned long long n = get(&requests[c][s]);

			if (n)
				rc |= gg_buf_printf(b,
						    "gitgate_api_requests_total{route=\"%s\","
						    "status=\"%d\"} %llu\n",
						    route_names[c], s, n);
		}
	rc |= gg_buf_printf(b,
			    "# HELP gitgate_allowed_checks_total /internal/allowed decisions.\n"
			    "# TYPE gitgate_allowed_checks_total counter\n"
			    "gitgate_allowed_checks_total{result=\"allowed\"} %llu\n"
			    "gitgate_allowed_checks_total{result=\"refused\"} %llu\n",
			    get(&allowed_total[1]), get(&allowed_total[0]));
	rc |=
	    gg_buf_puts(b, "# HELP gitgate_refusals_total /internal/allowed refusals, by reason.\n"
			   "# TYPE gitgate_refusals_total counter\n");
	for (int r = 0; r < GG_REFUSAL_COUNT; r++)
		rc |= gg_buf_printf(b, "gitgate_refusals_total{reason=\"%s\"} %llu\n",
				    refusal_names[r], get(&refusals[r]));
	rc |=
	    gg_buf_puts(b, "# HELP gitgate_allowed_check_seconds Time to decide"
			   " /internal/allowed.\n# TYPE gitgate_allowed_check_seconds histogram\n");
	for (size_t i = 0; i <= N_BUCKETS; i++) {
		cumulative += get(&latency_count[i]);
		if (i < N_BUCKETS)
			rc |= gg_buf_printf(
			    b, "gitgate_allowed_check_seconds_bucket{le=\"%g\"} %llu\n",
			    latency_buckets[i], cumulative);
		else
			rc |= gg_buf_printf(
			    b, "gitgate_allowed_check_seconds_bucket{le=\"+Inf\"} %llu\n",
			    cumulative);
	}
	rc |= gg_buf_printf(b,
			    "gitgate_allowed_check_seconds_sum %.6f\n"
			    "gitgate_allowed_check_seconds_count %llu\n",
			    (double)get(&latency_sum_us) / 1e6, cumulative);
	rc |= gg_buf_printf(b,
			    "# HELP gitgate_exempted_writes_total Pushes let through in maintenance"
			    " mode by an exemption.\n# TYPE gitgate_exempted_writes_total counter\n"
			    "gitgate_exempted_writes_total %llu\n",
			    get(&exempted_writes));
	return rc;
}

/* The shared state, as every node sees it: -1 where the store failed. */
static int write_gauges(struct gg_http_request *req, struct gg_buf *b)
{
	struct gg_settings *s = malloc(sizeof(*s));
	struct gg_write_in_flight *writes = NULL;
	size_t n_writes = 0;
	bool have_settings, have_writes;
	int rc = 0;

	if (!s)
		return -1;
	have_settings = gg_store_settings_get(req->store, s) == GG_OK;
	have_writes = gg_store_write_list(req->store, &writes, &n_writes) == GG_OK;
	free(writes);
	rc |= gg_buf_printf(
	    b,
	    "# HELP gitgate_maintenance_mode Maintenance mode in force (switch or window).\n"
	    "# TYPE gitgate_maintenance_mode gauge\ngitgate_maintenance_mode %d\n"
	    "# HELP gitgate_maintenance_switch The maintenance switch alone.\n"
	    "# TYPE gitgate_maintenance_switch gauge\ngitgate_maintenance_switch %d\n"
	    "# HELP gitgate_maintenance_window_active A scheduled window is in force.\n"
	    "# TYPE gitgate_maintenance_window_active gauge\ngitgate_maintenance_window_active %d\n"
	    "# HELP gitgate_maintenance_window_announced A window starts within its notice.\n"
	    "# TYPE gitgate_maintenance_window_announced gauge\n"
	    "gitgate_maintenance_window_announced %d\n"
	    "# HELP gitgate_writes_in_flight Pushes between pre_receive and post_receive, all"
	    " nodes.\n# TYPE gitgate_writes_in_flight gauge\ngitgate_writes_in_flight %lld\n",
	    have_settings ? s->maintenance_mode : -1, have_settings ? s->maintenance_switch : -1,
	    have_settings ? s->window_state == GG_WINDOW_ACTIVE : -1,
	    have_settings ? s->window_state == GG_WINDOW_ANNOUNCED : -1,
	    have_writes ? (long long)n_writes : -1LL);
	free(s);
	return rc;
}

void gg_metrics_handle(struct gg_http_request *req, struct gg_http_response *res)
{
	if (!is_loopback(gg_http_client_ip(req)) && !(req->user && req->user->admin)) {
		gg_http_message(res, 403, GG_MSG_FORBIDDEN);
		return;
	}
	if (write_counters(&res->body) != 0 || write_gauges(req, &res->body) != 0) {
		gg_buf_clear(&res->body);
		gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
		return;
	}
	res->status = 200;
	res->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
