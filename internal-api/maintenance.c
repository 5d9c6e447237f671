/*
 * maintenance.c - see maintenance.h.
 */
#include "maintenance.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "cidr.h"
#include "log.h"
#include "messages.h"
#include "util.h"

const char *gg_maintenance_custom_message(const struct gg_settings *s)
{
	if (s->window_state == GG_WINDOW_ACTIVE && s->window.message[0])
		return s->window.message;
	return s->maintenance_mode_message;
}

const char *gg_maintenance_text(const struct gg_settings *s)
{
	const char *m = gg_maintenance_custom_message(s);

	return m[0] ? m : GG_MSG_MAINTENANCE_BANNER;
}

static size_t add_unit(char *out, size_t cap, size_t o, int64_t n, const char *unit)
{
	int w;

	if (n <= 0 || o >= cap)
		return o;
	w = snprintf(out + o, cap - o, "%s%" PRId64 " %s%s", o ? " " : "", n, unit,
		     n == 1 ? "" : "s");
	return w < 0 ? o : o + (size_t)w;
}

void gg_maintenance_duration(char *out, size_t cap, int64_t seconds)
{
	size_t o = 0;

	if (cap == 0)
		return;
	out[0] = '\0';
	if (seconds < 0)
		seconds = 0;
	o = add_unit(out, cap, o, seconds / 86400, "day");
	o = add_unit(out, cap, o, seconds % 86400 / 3600, "hour");
	o = add_unit(out, cap, o, seconds % 3600 / 60, "minute");
	if (seconds < 3600)
		o = add_unit(out, cap, o, seconds % 60, "second");
	if (o == 0)
		snprintf(out, cap, "0 seconds");
}

void gg_maintenance_notice(char *out, size_t cap, const struct gg_settings *s)
{
	char when[40], length[96];
	time_t t = (time_t)s->window.start_at;
	struct tm tm;

	if (cap == 0)
		return;
	out[0] = '\0';
	if (s->window_state != GG_WINDOW_ANNOUNCED || !gmtime_r(&t, &tm))
		return;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	gg_maintenance_duration(length, sizeof(length), s->window.end_at - s->window.start_at);
	snprintf(out, cap, GG_MSG_MAINTENANCE_NOTICE_FMT, when, length);
}

int gg_maintenance_exempt(struct gg_store *st, const char *check_ip, const char *username,
			  char *why, size_t whylen)
{
	struct gg_exemption *list = NULL;
	size_t n = 0;
	int found = 0;

	if (gg_store_exemption_list(st, &list, &n) != GG_OK)
		return -1;
	for (size_t i = 0; i < n && !found; i++) {
		if (list[i].kind == GG_EXEMPT_CIDR && check_ip && *check_ip &&
		    gg_cidr_contains(list[i].value, check_ip)) {
			snprintf(why, whylen, "cidr %s", list[i].value);
			found = 1;
		} else if (list[i].kind == GG_EXEMPT_USER && username &&
			   strcasecmp(list[i].value, username) == 0) {
			snprintf(why, whylen, "user %s", list[i].value);
			found = 1;
		}
	}
	free(list);
	return found;
}

/* ---- the clock ---- */

#define CLOCK_INTERVAL_MS 500

static pthread_t clock_thread;
static bool clock_running;
static pthread_mutex_t clock_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t clock_cond = PTHREAD_COND_INITIALIZER;
static bool clock_stop;

static void record(struct gg_store *st, const struct gg_maintenance_window *w, const char *kind)
{
	struct gg_audit_event e;
	char when[32], host[64] = "";
	int rc;

	memset(&e, 0, sizeof(e));
	gethostname(host, sizeof(host) - 1);
	snprintf(e.actor, sizeof(e.actor), "gate-api scheduler (%s)", host);
	snprintf(e.action, sizeof(e.action), "maintenance.window_%s", kind);
	snprintf(e.target, sizeof(e.target), "window %" PRId64, w->id);
	gg_iso8601(when, strcmp(kind, "start") == 0 ? w->start_at : w->end_at);
	snprintf(e.old_value, sizeof(e.old_value), "%s", strcmp(kind, "start") == 0 ? "off" : "on");
	snprintf(e.new_value, sizeof(e.new_value), "%s at %s",
		 strcmp(kind, "start") == 0 ? "on" : "off", when);
	rc = gg_store_window_record(st, w->id, kind, &e);
	if (rc == GG_OK)
		gg_info("maintenance window %" PRId64 " %s: maintenance mode %s", w->id,
			strcmp(kind, "start") == 0 ? "started" : "ended",
			strcmp(kind, "start") == 0 ? "on" : "off");
	else if (rc != GG_EEXISTS)
		gg_warn("cannot record the %s of maintenance window %" PRId64 ": %s", kind, w->id,
			gg_store_errmsg(st));
}

/* One pass: every window whose start or end has come and is not recorded. */
static void clock_tick(struct gg_store *st)
{
	struct gg_maintenance_window *list = NULL;
	struct gg_settings *s = malloc(sizeof(*s));
	size_t n = 0;
	int64_t now;

	/* The store's clock (the database's on PostgreSQL), as the checks use. */
	if (!s || gg_store_settings_get(st, s) != GG_OK) {
		free(s);
		return;
	}
	now = s->now;
	free(s);
	if (gg_store_window_list(st, true, &list, &n) != GG_OK) {
		gg_warn("cannot list maintenance windows: %s", gg_store_errmsg(st));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct gg_maintenance_window *w = &list[i];

		if (w->cancelled)
			continue;
		if (w->start_at <= now && !w->start_recorded)
			record(st, w, "start");
		if (w->end_at <= now && !w->end_recorded)
			record(st, w, "end");
	}
	free(list);
}

static void *clock_main(void *arg)
{
	struct gg_app *app = arg;

	gg_log_set_correlation_id("maintenance-clock");
	for (;;) {
		struct timespec until;
		struct gg_store *st = gg_app_thread_store(app);
		bool stop;

		if (st)
			clock_tick(st);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += CLOCK_INTERVAL_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&clock_lock);
		if (!clock_stop)
			pthread_cond_timedwait(&clock_cond, &clock_lock, &until);
		stop = clock_stop;
		pthread_mutex_unlock(&clock_lock);
		if (stop)
			break;
	}
	gg_app_thread_store_close();
	return NULL;
}

int gg_maintenance_clock_start(struct gg_app *app)
{
	if (app->secondary || clock_running)
		return 0;
	clock_stop = false;
	if (pthread_create(&clock_thread, NULL, clock_main, app) != 0)
		return -1;
	clock_running = true;
	return 0;
}

void gg_maintenance_clock_stop(void)
{
	if (!clock_running)
		return;
	pthread_mutex_lock(&clock_lock);
	clock_stop = true;
	pthread_cond_signal(&clock_cond);
	pthread_mutex_unlock(&clock_lock);
	pthread_join(clock_thread, NULL);
	clock_running = false;
}
