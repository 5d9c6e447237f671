/*
 * metrics.c - see metrics.h.
 */
#include "metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util.h"

static const char *const commands[] = {"git-upload-pack", "git-receive-pack", "git-upload-archive",
				       "none"};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))
static const char *const results[] = {"served",	    "failed",	   "denied",
				      "disallowed", "unreachable", "too_many_sessions",
				      "welcome",    "other"};
#define N_RESULTS (sizeof(results) / sizeof(results[0]))
static const char *const refusals[GG_REFUSAL_COUNT] = {
    "max_startups", "max_sessions", "proxy",	   "unknown_key", "auth_tries",
    "disallowed",   "denied",	    "maintenance", "unreachable", "too_many_sessions"};
static const double buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

#define PUSH_SLOTS 4096 /* a push beyond them is counted, but not taken back at a crash */

struct shared_counters {
	atomic_uint_fast64_t connections;
	atomic_uint_fast64_t sessions[N_COMMANDS][N_RESULTS];
	atomic_uint_fast64_t refusals[GG_REFUSAL_COUNT];
	atomic_uint_fast64_t allowed_buckets[N_BUCKETS]; /* not cumulative; summed at render */
	atomic_uint_fast64_t allowed_count;
	atomic_uint_fast64_t allowed_sum_us;
	atomic_uint_fast64_t bytes_received;
	atomic_uint_fast64_t bytes_sent;
	atomic_int_fast64_t pushes_in_flight;
	/* The connection processes in a push, so that the parent can take back
	 * the push of one that died in it (gg_metrics_child_gone). */
	atomic_int push_pids[PUSH_SLOTS];
	atomic_int maintenance;		 /* 0 never seen, 1 off, 2 on */
	atomic_uint_fast64_t reloads[2]; /* failed, ok */
};

static struct shared_counters *m;

int gg_metrics_setup(void)
{
	void *p;

	if (m)
		return 0;
	p = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	m = p; /* zero-filled by the kernel: every counter starts at 0 */
	return 0;
}

void gg_metrics_connection(void)
{
	if (m)
		atomic_fetch_add(&m->connections, 1);
}

void gg_metrics_refusal(enum gg_metrics_refusal reason)
{
	if (m && reason < GG_REFUSAL_COUNT)
		atomic_fetch_add(&m->refusals[reason], 1);
}

static size_t index_of(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return n - 1; /* "none" / "other" */
}

void gg_metrics_session(const char *command, const char *result)
{
	if (m)
		atomic_fetch_add(&m->sessions[index_of(commands, N_COMMANDS, command)]
					     [index_of(results, N_RESULTS, result)],
				 1);
}

void gg_metrics_allowed_latency(double seconds)
{
	size_t i = 0;

	if (!m)
		return;
	if (seconds < 0)
		seconds = 0;
	while (i < N_BUCKETS && seconds > buckets[i])
		i++;
	if (i < N_BUCKETS)
		atomic_fetch_add(&m->allowed_buckets[i], 1);
	atomic_fetch_add(&m->allowed_count, 1);
	atomic_fetch_add(&m->allowed_sum_us, (uint_fast64_t)(seconds * 1e6));
}

void gg_metrics_bytes(uint64_t received, uint64_t sent)
{
	if (!m)
		return;
	atomic_fetch_add(&m->bytes_received, received);
	atomic_fetch_add(&m->bytes_sent, sent);
}

static int push_slot = -1; /* this process's slot in push_pids, while it pushes */

void gg_metrics_push_begin(void)
{
	int pid = (int)getpid();

	if (!m)
		return;
	atomic_fetch_add(&m->pushes_in_flight, 1);
	for (int i = 0; i < PUSH_SLOTS; i++) {
		int free_slot = 0;

		if (atomic_compare_exchange_strong(&m->push_pids[i], &free_slot, pid)) {
			push_slot = i;
			return;
		}
	}
}

/* Whoever clears the pid from the slot takes the push back, once. */
static void take_back(int slot, int pid)
{
	if (atomic_compare_exchange_strong(&m->push_pids[slot], &pid, 0))
		atomic_fetch_sub(&m->pushes_in_flight, 1);
}

void gg_metrics_push_end(void)
{
	if (!m)
		return;
	if (push_slot >= 0)
		take_back(push_slot, (int)getpid());
	else
		atomic_fetch_sub(&m->pushes_in_flight, 1);
	push_slot = -1;
}

void gg_metrics_child_gone(pid_t pid)
{
	if (!m)
		return;
	for (int i = 0; i < PUSH_SLOTS; i++)
		if (atomic_load(&m->push_pids[i]) == (int)pid)
			take_back(i, (int)pid);
}

void gg_metrics_maintenance_seen(bool on)
{
	if (m)
		atomic_store(&m->maintenance, on ? 2 : 1);
}

void gg_metrics_reload(bool ok)
{
	if (m)
		atomic_fetch_add(&m->reloads[ok ? 1 : 0], 1);
}

char *gg_metrics_render(size_t connections_in_flight, size_t sessions_in_flight)
{
	struct gg_buf b = GG_BUF_INIT;
	uint_fast64_t cumulative = 0;
	int maintenance;

	if (!m)
		return NULL;
	gg_buf_printf(&b,
		      "# HELP gitgate_sshd_connections_in_flight Connections open now.\n"
		      "# TYPE gitgate_sshd_connections_in_flight gauge\n"
		      "gitgate_sshd_connections_in_flight %zu\n"
		      "# HELP gitgate_sshd_sessions_in_flight Git commands being served now.\n"
		      "# TYPE gitgate_sshd_sessions_in_flight gauge\n"
		      "gitgate_sshd_sessions_in_flight %zu\n"
		      "# HELP gitgate_sshd_connections_total Connections accepted.\n"
		      "# TYPE gitgate_sshd_connections_total counter\n"
		      "gitgate_sshd_connections_total %llu\n",
		      connections_in_flight, sessions_in_flight,
		      (unsigned long long)atomic_load(&m->connections));
	gg_buf_puts(&b, "# HELP gitgate_sshd_sessions_total Commands run, by command and result.\n"
			"# TYPE gitgate_sshd_sessions_total counter\n");
	for (size_t c = 0; c < N_COMMANDS; c++)
		for (size_t r = 0; r < N_RESULTS; r++) {
			unsigned long long v = atomic_load(&m->sessions[c][r]);

			if (v)
				gg_buf_printf(
				    &b,
				    "gitgate_sshd_sessions_total{command=\"%s\",result=\"%s\"} "
				    "%llu\n",
				    commands[c], results[r], v);
		}
	gg_buf_puts(&b, "# HELP gitgate_sshd_refusals_total Connections and commands refused, "
			"by reason.\n"
			"# TYPE gitgate_sshd_refusals_total counter\n");
	for (size_t i = 0; i < GG_REFUSAL_COUNT; i++)
		gg_buf_printf(&b, "gitgate_sshd_refusals_total{reason=\"%s\"} %llu\n", refusals[i],
			      (unsigned long long)atomic_load(&m->refusals[i]));
	gg_buf_puts(&b, "# HELP gitgate_sshd_allowed_check_seconds Latency of gate-api's "
			"/internal/allowed as sshd-gate sees it.\n"
			"# TYPE gitgate_sshd_allowed_check_seconds histogram\n");
	for (size_t i = 0; i < N_BUCKETS; i++) {
		cumulative += atomic_load(&m->allowed_buckets[i]);
		gg_buf_printf(&b, "gitgate_sshd_allowed_check_seconds_bucket{le=\"%g\"} %llu\n",
			      buckets[i], (unsigned long long)cumulative);
	}
	gg_buf_printf(&b,
		      "gitgate_sshd_allowed_check_seconds_bucket{le=\"+Inf\"} %llu\n"
		      "gitgate_sshd_allowed_check_seconds_sum %.6f\n"
		      "gitgate_sshd_allowed_check_seconds_count %llu\n",
		      (unsigned long long)atomic_load(&m->allowed_count),
		      (double)atomic_load(&m->allowed_sum_us) / 1e6,
		      (unsigned long long)atomic_load(&m->allowed_count));
	maintenance = atomic_load(&m->maintenance);
	gg_buf_printf(
	    &b,
	    "# HELP gitgate_sshd_bytes_received_total Bytes received from Git clients.\n"
	    "# TYPE gitgate_sshd_bytes_received_total counter\n"
	    "gitgate_sshd_bytes_received_total %llu\n"
	    "# HELP gitgate_sshd_bytes_sent_total Bytes sent to Git clients.\n"
	    "# TYPE gitgate_sshd_bytes_sent_total counter\n"
	    "gitgate_sshd_bytes_sent_total %llu\n"
	    "# HELP gitgate_sshd_pushes_in_flight Pushes between their access check and their "
	    "end.\n"
	    "# TYPE gitgate_sshd_pushes_in_flight gauge\n"
	    "gitgate_sshd_pushes_in_flight %lld\n"
	    "# HELP gitgate_sshd_maintenance_mode Maintenance mode as gate-api's last answer to a "
	    "push showed it (1 on, 0 off, -1 not seen yet).\n"
	    "# TYPE gitgate_sshd_maintenance_mode gauge\n"
	    "gitgate_sshd_maintenance_mode %d\n"
	    "# HELP gitgate_sshd_reloads_total Configuration reloads (SIGHUP), by result.\n"
	    "# TYPE gitgate_sshd_reloads_total counter\n"
	    "gitgate_sshd_reloads_total{result=\"ok\"} %llu\n"
	    "gitgate_sshd_reloads_total{result=\"failed\"} %llu\n",
	    (unsigned long long)atomic_load(&m->bytes_received),
	    (unsigned long long)atomic_load(&m->bytes_sent),
	    (long long)atomic_load(&m->pushes_in_flight), maintenance - 1,
	    (unsigned long long)atomic_load(&m->reloads[1]),
	    (unsigned long long)atomic_load(&m->reloads[0]));
	return gg_buf_detach(&b);
}
