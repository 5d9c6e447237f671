/*
 * log.h - one line per event on stderr, as text or JSON, carrying the
 * function name (like OpenSSH's error_f) and, when set, a correlation id.
 */
#ifndef GG_LOG_H
#define GG_LOG_H

enum gg_log_level { GG_LOG_ERROR, GG_LOG_WARN, GG_LOG_INFO, GG_LOG_DEBUG };

/* level: "error" | "warn" | "info" | "debug"; format: "text" | "json". */
void gg_log_setup(const char *program, const char *level, const char *format);
void gg_log_set_correlation_id(const char *id);
/*
 * Send the lines to syslog (facility LOG_AUTH) instead of stderr: for the
 * programs whose stderr is the Git client's terminal (gate-shell, gate-hook),
 * where a log line would read as a message from the server.
 */
void gg_log_to_syslog(void);
void gg_log_write(enum gg_log_level level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define gg_error(...) gg_log_write(GG_LOG_ERROR, __func__, __VA_ARGS__)
#define gg_warn(...)  gg_log_write(GG_LOG_WARN, __func__, __VA_ARGS__)
#define gg_info(...)  gg_log_write(GG_LOG_INFO, __func__, __VA_ARGS__)
#define gg_debug(...) gg_log_write(GG_LOG_DEBUG, __func__, __VA_ARGS__)

#endif
