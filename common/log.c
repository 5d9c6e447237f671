/*
 * log.c - see log.h.
 */
#include "log.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *log_program = "gitgate";
static enum gg_log_level log_level = GG_LOG_INFO;
static int log_json;
static int log_syslog;
static _Thread_local char log_cid[64];

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void gg_log_setup(const char *program, const char *level, const char *format)
{
	log_program = program;
	for (int i = 0; level && i < 4; i++)
		if (strcmp(level, level_names[i]) == 0)
			log_level = (enum gg_log_level)i;
	log_json = format && strcmp(format, "json") == 0;
}

void gg_log_set_correlation_id(const char *id)
{
	snprintf(log_cid, sizeof(log_cid), "%s", id ? id : "");
}

void gg_log_to_syslog(void)
{
	openlog(log_program, LOG_PID, LOG_AUTH);
	log_syslog = 1;
}

void gg_log_write(enum gg_log_level level, const char *func, const char *fmt, ...)
{
	char msg[2048], ts[40];
	struct timespec now;
	struct tm tm;
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_syslog) {
		static const int priorities[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

		syslog(priorities[level], "%s %s: %s%s%s%s", level_names[level], func,
		       log_cid[0] ? "[" : "", log_cid, log_cid[0] ? "] " : "", msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);

	if (log_json) {
		cJSON *o = cJSON_CreateObject();
		char *line;
		char tsfull[64];

		snprintf(tsfull, sizeof(tsfull), "%s.%03ldZ", ts, now.tv_nsec / 1000000);
		cJSON_AddStringToObject(o, "time", tsfull);
		cJSON_AddStringToObject(o, "level", level_names[level]);
		cJSON_AddStringToObject(o, "program", log_program);
		cJSON_AddNumberToObject(o, "pid", getpid());
		cJSON_AddStringToObject(o, "func", func);
		if (log_cid[0])
			cJSON_AddStringToObject(o, "correlation_id", log_cid);
		cJSON_AddStringToObject(o, "msg", msg);
		line = cJSON_PrintUnformatted(o);
		fprintf(stderr, "%s\n", line);
		cJSON_free(line);
		cJSON_Delete(o);
	} else {
		fprintf(stderr, "%s.%03ldZ %s[%d] %s %s: %s%s%s%s\n", ts, now.tv_nsec / 1000000,
			log_program, (int)getpid(), level_names[level], func, log_cid[0] ? "[" : "",
			log_cid, log_cid[0] ? "] " : "", msg);
	}
}
