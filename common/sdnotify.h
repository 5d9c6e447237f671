/*
 * sdnotify.h - readiness and stop notices to systemd (Type=notify units).
 *
 * libsystemd is optional: without it (GG_HAVE_LIBSYSTEMD undefined) these do
 * nothing.  Outside systemd, NOTIFY_SOCKET is unset and sd_notify() returns
 * at once, so the daemons call them unconditionally.
 */
#ifndef GG_SDNOTIFY_H
#define GG_SDNOTIFY_H

#ifdef GG_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

/* state as for sd_notify(3): "READY=1", "RELOADING=1", "STOPPING=1", ... */
static inline void gg_sd_notify(const char *state)
{
#ifdef GG_HAVE_LIBSYSTEMD
	(void)sd_notify(0, state);
#else
	(void)state;
#endif
}

#endif
