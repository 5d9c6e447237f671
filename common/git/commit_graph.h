/*
 * commit_graph.h - commits as nodes with per-request flags.
 *
 * Negotiation, shallow boundaries and choosing what goes into a pack all
 * walk the commit graph while marking commits (common, wanted, shallow,
 * uninteresting...).  libgit2's revwalk cannot stop at shallow boundaries
 * or report the edges between sent and known history, so those walks are
 * done here, on nodes parsed once per request.
 */
#ifndef GG_GIT_COMMIT_GRAPH_H
#define GG_GIT_COMMIT_GRAPH_H

#include <git2.h>
#include <stdbool.h>
#include <stdint.h>

#include "oidmap.h"

struct gg_commit {
	git_oid oid;
	git_oid tree;
	int64_t time;	/* committer time */
	uint32_t flags; /* owned by whoever owns the graph */
	uint32_t depth; /* scratch for depth computations; 0 = unset */
	uint32_t nparents;
	bool parsed;
	struct gg_commit **parents;
};

struct gg_commit_graph {
	git_repository *repo;
	struct gg_oidmap nodes; /* oid -> struct gg_commit * */
};

void gg_commit_graph_init(struct gg_commit_graph *g, git_repository *repo);
void gg_commit_graph_clear(struct gg_commit_graph *g);

/*
 * The node for oid, created on first use but not parsed.  Never fails
 * except when out of memory.
 */
int gg_commit_graph_node(struct gg_commit **out, struct gg_commit_graph *g, const git_oid *oid);

/* Reads the commit into the node (tree, time, parents).  GIT_ENOTFOUND if missing. */
int gg_commit_parse(struct gg_commit_graph *g, struct gg_commit *c);

/*
 * The parsed commit for oid, or GIT_ENOTFOUND when oid is not a commit.
 * Annotated tags are peeled first when peel is set.
 */
int gg_commit_graph_lookup(struct gg_commit **out, struct gg_commit_graph *g, const git_oid *oid,
			   bool peel);

/* A max-heap of commits by committer time (newest first). */
struct gg_commit_queue {
	struct gg_commit **items;
	size_t nr, alloc;
};

#define GG_COMMIT_QUEUE_INIT                                                                       \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

int gg_commit_queue_push(struct gg_commit_queue *q, struct gg_commit *c);
struct gg_commit *gg_commit_queue_pop(struct gg_commit_queue *q);
void gg_commit_queue_clear(struct gg_commit_queue *q);

#endif
