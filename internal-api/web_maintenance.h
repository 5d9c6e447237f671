/*
 * web_maintenance.h - scheduled windows, exemptions and per-project
 * read-only on the admin pages (SPEC §7; web_maintenance.c).
 */
#ifndef GG_WEB_MAINTENANCE_H
#define GG_WEB_MAINTENANCE_H

#include "route.h"
#include "store.h"
#include "util.h"

/* The windows and exemptions part of the maintenance form.  0 or -1. */
int gg_web_maintenance_section(struct gg_http_request *req, struct gg_buf *b);

/* Apply the windows and exemptions fields of a saved maintenance form: NULL,
 * or what went wrong (a flash message). */
const char *gg_web_maintenance_save(struct gg_http_request *req);

/* A table cell with the project's read-only state and a toggle form. */
int gg_web_project_read_only_cell(struct gg_http_request *req, struct gg_buf *b,
				  const struct gg_project *p);

/* POST /admin/projects/:id/read_only (read_only=0|1, read_only_message):
 * administrators only. */
void gg_web_project_read_only(struct gg_http_request *req, struct gg_http_response *res);

#endif
