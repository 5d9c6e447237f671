/*
 * object_walk.h - which objects a fetch has to send.
 *
 * Given what the client wants and what it already has, lists every object
 * to put in the pack: commits newest first, then their trees and blobs.
 * The trees of every boundary commit (a known commit that is a parent of a
 * sent one) are marked known first, so an incremental fetch sends only what
 * changed; libgit2's git_packbuilder_insert_walk marks only the hidden tips
 * and over-selects badly (see FINDINGS.md).
 *
 * Nothing outside the closure of the wants is ever listed: callers check the
 * wants themselves (reachable.h), and this walk only follows links.
 */
#ifndef GG_GIT_OBJECT_WALK_H
#define GG_GIT_OBJECT_WALK_H

#include <git2.h>
#include <stdint.h>

#include "oidmap.h"
#include "ref_list.h"

enum gg_filter_kind {
	GG_FILTER_NONE,
	GG_FILTER_BLOB_NONE,  /* blob:none */
	GG_FILTER_BLOB_LIMIT, /* blob:limit=<n> */
	GG_FILTER_TREE_0,     /* tree:0 */
};

struct gg_filter {
	enum gg_filter_kind kind;
	uint64_t blob_limit;
};

/* Parses a filter-spec ("blob:none", "blob:limit=1k", "tree:0").  0 or -1. */
int gg_filter_parse(struct gg_filter *out, const char *spec);

struct gg_walk_request {
	git_repository *repo;
	const struct gg_oid_array *wants; /* any type: commits, tags, trees, blobs */
	const struct gg_oid_array *haves; /* objects the client has (and all they reach) */
	/* Commits whose parents are not walked: shallow boundaries.  May be NULL. */
	const struct gg_oidmap *shallow;
	/* Commits the client has in full although they are shallow (unshallowed). */
	const struct gg_oid_array *edges;
	struct gg_filter filter;
	/* include-tag: annotated tags among these refs are added when their target is. */
	const struct gg_ref_list *include_tags;
	/*
	 * When non-NULL, receives the trees and blobs the walk found the client
	 * to have (those of the haves and of boundary commits): safe delta
	 * bases for a thin pack.
	 */
	struct gg_oidmap *known;
};

/*
 * add is called once per object to send; name is the tree entry name (NULL
 * for commits and tags), valid only during the call.  progress gets the
 * running count now and then.  Either callback may stop the walk by
 * returning non-zero, which is returned.
 */
typedef int (*gg_walk_add_cb)(void *ctx, const git_oid *oid, git_object_t type, const char *name);
typedef int (*gg_walk_progress_cb)(void *ctx, size_t count);

int gg_object_walk(const struct gg_walk_request *req, gg_walk_add_cb add,
		   gg_walk_progress_cb progress, void *ctx);

#endif
