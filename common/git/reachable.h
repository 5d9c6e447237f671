/*
 * reachable.h - may the client have these objects?
 *
 * A want is allowed when it is the tip (or peeled tip) of a ref the client
 * can see, or reachable from one: commits through their parents, trees and
 * blobs through the trees of those commits.  Anything else - an object
 * left behind by a force push, one only a hidden ref reaches, an unknown
 * id - is refused, so a secret that was pushed and removed never comes
 * back in a fetch by id.
 */
#ifndef GG_GIT_REACHABLE_H
#define GG_GIT_REACHABLE_H

#include <git2.h>

#include "oidmap.h"
#include "ref_list.h"

/*
 * Checks every want.  0 when all are allowed; 1 when one is not, with its
 * id in *refused; negative on error.
 */
int gg_check_wants(git_oid *refused, git_repository *repo, const struct gg_ref_list *refs,
		   const struct gg_oid_array *wants);

#endif
