/*
 * maintenance.h - what scheduled maintenance windows and exemptions (SPEC §7)
 * mean for gate-api: the texts users are shown, who may still push, and the
 * clock that writes each window's start and end to the audit trail.
 *
 * Whether maintenance is in force is decided by the store when the settings
 * are read (store.h: the switch, or now within a window), so every check on
 * every node sees the same instant; nothing here flips a switch.
 */
#ifndef GG_MAINTENANCE_H
#define GG_MAINTENANCE_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

struct gg_app;

/* The message of the maintenance in force: the window's own, else the
 * switch's, else the standard banner text. */
const char *gg_maintenance_text(const struct gg_settings *s);

/* The custom message in force ("" when none): the window's, else the switch's. */
const char *gg_maintenance_custom_message(const struct gg_settings *s);

/* "Maintenance begins at 2026-11-22 10:00:00 UTC for 30 minutes." when a
 * window is announced (within its notice), else "".  out holds GG_MESSAGE_MAX. */
void gg_maintenance_notice(char *out, size_t cap, const struct gg_settings *s);

/* "1 hour 30 minutes", "45 seconds", ... */
void gg_maintenance_duration(char *out, size_t cap, int64_t seconds);

/* May this push go ahead in maintenance mode?  check_ip (may be NULL) against
 * the exempt networks, username (may be NULL) against the exempt users.
 * 1 with what matched in why ("cidr 127.0.0.2/32", "user rel"), 0 when not
 * exempt, -1 when the store failed. */
int gg_maintenance_exempt(struct gg_store *st, const char *check_ip, const char *username,
			  char *why, size_t whylen);

/* The thread that records each window's start and end as audit events, once
 * across all nodes (the store's unique key decides which node writes).  Not
 * run on a Geo secondary.  start: 0 or -1. */
int gg_maintenance_clock_start(struct gg_app *app);
void gg_maintenance_clock_stop(void);

#endif
