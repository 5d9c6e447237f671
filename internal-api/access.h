/*
 * access.h - the access policy (SPEC §3), in one place.
 *
 * Everything that decides whether someone may read or write a project goes
 * through here, for the internal API, the REST API and GraphQL alike.
 * Admins may do everything; blocked users nothing.  Download: public and
 * internal projects for any signed-in user, private ones for reporter and up.
 * Push: developer and up, maintainer (or as configured) on protected branches.
 */
#ifndef GG_ACCESS_H
#define GG_ACCESS_H

#include <stdbool.h>

#include "store.h"

/* The user's effective access level on project (GG_ACCESS_OWNER for admins,
 * GG_ACCESS_NONE for blocked users or non-members).  user may be NULL. */
int gg_access_level(struct gg_store *st, const struct gg_user *user,
		    const struct gg_project *project);

/* May user (NULL = anonymous) see the project and download its code? */
bool gg_access_can_read(struct gg_store *st, const struct gg_user *user,
			const struct gg_project *project);

/* May user push to the project at all (ignoring protected branches)? */
bool gg_access_can_push(struct gg_store *st, const struct gg_user *user,
			const struct gg_project *project);

/* May user push to branch ref ("refs/heads/x", or any other ref) of project,
 * taking protected branches into account? */
bool gg_access_can_push_ref(struct gg_store *st, const struct gg_user *user,
			    const struct gg_project *project, const char *ref);

/* The protected-branch rules that apply to ref on project: *is_protected when
 * any matches, and *best_level the most permissive push level among those
 * that match (GG_ACCESS_NO_ONE when all say no one).  GG_OK or a store error. */
int gg_access_protected_branch_rules(struct gg_store *st, const struct gg_project *project,
				     const char *ref, int *best_level, bool *is_protected);

/* May user administer the project (maintainer and up)? */
bool gg_access_can_admin(struct gg_store *st, const struct gg_user *user,
			 const struct gg_project *project);

#endif
