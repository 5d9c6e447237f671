/*
 * shallow.h - where a shallow fetch cuts history.
 *
 * A shallow client lists the commits whose parents it lacks ("shallow"),
 * and may ask to deepen: to a depth from the wants, by a further depth from
 * its current boundary (deepen-relative), to a date (deepen-since) or up to
 * some refs (deepen-not).  This computes the new boundary: the commits to
 * announce as shallow or unshallow, and what the pack walk must treat as
 * parentless so that it sends exactly the history in between.
 */
#ifndef GG_GIT_SHALLOW_H
#define GG_GIT_SHALLOW_H

#include <git2.h>
#include <stdbool.h>
#include <stdint.h>

#include "oidmap.h"

/* "deepen 2147483647" is what git sends for --unshallow. */
#define GG_INFINITE_DEPTH 0x7fffffff

struct gg_shallow_request {
	git_repository *repo;
	const struct gg_oid_array *wants;
	const struct gg_oid_array *client_shallows;
	uint32_t depth;			     /* deepen <n>; 0 = none */
	bool relative;			     /* deepen-relative */
	int64_t since;			     /* deepen-since <time>; 0 = none */
	const struct gg_oid_array *not_tips; /* deepen-not, resolved; may be empty */
};

struct gg_shallow_result {
	struct gg_oid_array shallow;	 /* new boundary commits: "shallow <oid>" */
	struct gg_oid_array unshallow;	 /* client boundaries lifted: "unshallow <oid>" */
	struct gg_oidmap boundary;	 /* commits the pack walk treats as parentless */
	struct gg_oid_array extra_wants; /* parents of unshallowed commits */
	struct gg_oid_array edges;	 /* unshallowed commits: the client has them */
};

/* Computes the new boundary for a deepen request.  -1 with a message if none is possible. */
int gg_shallow_compute(struct gg_shallow_result *out, const struct gg_shallow_request *req);

/* For a shallow client that does not deepen: its boundary stays as it is. */
int gg_shallow_keep(struct gg_shallow_result *out, git_repository *repo,
		    const struct gg_oid_array *client_shallows);

void gg_shallow_result_clear(struct gg_shallow_result *res);

#endif
