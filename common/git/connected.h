/*
 * connected.h - does a pushed tip have everything it points to?
 *
 * A ref may only move to an object whose whole history is in the
 * repository (or in the quarantine about to join it).  As git's
 * rev-list --objects NEW --not --all: an object counts as complete only
 * when an existing ref reaches it.  One stored but reached by no ref (a
 * dangling tree an earlier push brought beside a good ref, the objects
 * of a refused ref: a push's whole pack is kept once one ref is
 * accepted) is opened like a new one.  Existence checks never rescan the
 * pack directory (GIT_ODB_LOOKUP_NO_REFRESH).
 */
#ifndef GG_GIT_CONNECTED_H
#define GG_GIT_CONNECTED_H

#include <git2.h>

#include "ref_list.h"

/*
 * 0 when tip is connected, 1 when something is missing, negative on error.
 * repo's odb must already see the quarantine (as an alternate); quarantine
 * is the quarantine alone, or NULL when the push brought no objects.
 */
int gg_check_connected(git_repository *repo, git_odb *quarantine, const struct gg_ref_list *known,
		       const git_oid *tip);

/*
 * The same for every tip of a push at once, in one walk (the tips share
 * what they reach): 0 when all are connected, 1 when something is
 * missing below one of them, negative on error.
 */
int gg_check_connected_all(git_repository *repo, git_odb *quarantine,
			   const struct gg_ref_list *known, const git_oid *tips, size_t ntips);

#endif
