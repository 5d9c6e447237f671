/*
 * access.c - the access policy of SPEC §3 (access.h).
 *
 * Levels follow GitLab: admins count as owners everywhere, blocked users and
 * anonymous callers have no level at all.  Reading code needs a public
 * project, an internal one and any signed-in user, or reporter and up on a
 * private one.  Pushing needs developer and up; a protected branch needs
 * whatever its rule says, and the rule "no one" means no one at all, admins
 * included (as in GitLab, where a branch protected with "No one" allowed to
 * push cannot be pushed to over Git by anybody).  When several rules match a
 * branch, the most permissive one applies, as in GitLab.
 *
 * Deploy keys are not users; internal_api.c applies their rules (read, and
 * write only with can_push, never to a protected branch).
 */
#include "access.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int gg_access_level(struct gg_store *st, const struct gg_user *user,
		    const struct gg_project *project)
{
	int level = GG_ACCESS_NONE;

	if (!user || user->blocked || !project)
		return GG_ACCESS_NONE;
	if (user->admin)
		return GG_ACCESS_OWNER;
	if (gg_store_member_get_level(st, project->id, user->id, &level) != GG_OK)
		return GG_ACCESS_NONE;
	return level;
}

bool gg_access_can_read(struct gg_store *st, const struct gg_user *user,
			const struct gg_project *project)
{
	if (!project || (user && user->blocked))
		return false;
	switch (project->visibility) {
	case GG_VISIBILITY_PUBLIC:
		return true;
	case GG_VISIBILITY_INTERNAL:
		if (user)
			return true;
		break;
	case GG_VISIBILITY_PRIVATE:
		break;
	}
	return gg_access_level(st, user, project) >= GG_ACCESS_REPORTER;
}

bool gg_access_can_push(struct gg_store *st, const struct gg_user *user,
			const struct gg_project *project)
{
	return gg_access_level(st, user, project) >= GG_ACCESS_DEVELOPER;
}

bool gg_access_can_admin(struct gg_store *st, const struct gg_user *user,
			 const struct gg_project *project)
{
	return gg_access_level(st, user, project) >= GG_ACCESS_MAINTAINER;
}

/* Does a protected-branch name match branch?  Only '*' is a wildcard (it
 * matches any characters, '/' included); everything else is literal. */
static bool branch_pattern_matches(const char *pattern, const char *branch)
{
	char glob[2 * GG_NAME_MAX];
	size_t o = 0;

	if (!strchr(pattern, '*'))
		return strcmp(pattern, branch) == 0;
	for (const char *p = pattern; *p; p++) {
		if (o + 3 > sizeof(glob))
			return false;
		if (*p == '?' || *p == '[' || *p == ']' || *p == '\\')
			glob[o++] = '\\';
		glob[o++] = *p;
	}
	glob[o] = '\0';
	return fnmatch(glob, branch, 0) == 0;
}

/* The branch a ref names, or NULL for a ref that is not a branch.  A bare
 * name without "refs/" is taken as a branch. */
static const char *branch_of(const char *ref)
{
	if (strncmp(ref, "refs/heads/", 11) == 0)
		return ref + 11;
	if (strncmp(ref, "refs/", 5) == 0)
		return NULL;
	return ref;
}

int gg_access_protected_branch_rules(struct gg_store *st, const struct gg_project *project,
				     const char *ref, int *best_level, bool *is_protected)
{
	struct gg_protected_branch *rules = NULL;
	size_t n = 0;
	const char *branch = branch_of(ref);
	int rc;

	*is_protected = false;
	*best_level = GG_ACCESS_NO_ONE;
	if (!branch)
		return GG_OK;
	rc = gg_store_protected_branch_list(st, project->id, &rules, &n);
	if (rc != GG_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (!branch_pattern_matches(rules[i].name, branch))
			continue;
		/* NO_ONE is 0, so the most permissive rule is the lowest non-zero level. */
		if (!*is_protected ||
		    (rules[i].push_access_level != GG_ACCESS_NO_ONE &&
		     (*best_level == GG_ACCESS_NO_ONE || rules[i].push_access_level < *best_level)))
			*best_level = rules[i].push_access_level;
		*is_protected = true;
	}
	free(rules);
	return GG_OK;
}

bool gg_access_can_push_ref(struct gg_store *st, const struct gg_user *user,
			    const struct gg_project *project, const char *ref)
{
	bool is_protected;
	int needed, level = gg_access_level(st, user, project);

	if (level < GG_ACCESS_DEVELOPER)
		return false;
	if (gg_access_protected_branch_rules(st, project, ref, &needed, &is_protected) != GG_OK) {
		gg_error("cannot read protected branches of %s: %s", project->full_path,
			 gg_store_errmsg(st));
		return false;
	}
	if (!is_protected)
		return true;
	if (needed == GG_ACCESS_NO_ONE)
		return false;
	return level >= needed;
}
