/*
 * shallow.c - see shallow.h.
 *
 * By depth: a breadth-first walk from the heads gives every commit its
 * smallest depth; commits reaching the limit become the boundary and are
 * not walked further.  By date or excluded refs: the commits kept are those
 * connected to the wants through kept commits, and the boundary is every
 * kept commit with a parent that is not kept.
 */
#include "shallow.h"

#include <stdlib.h>
#include <string.h>

#include "commit_graph.h"

#define CLIENT_SHALLOW (1u << 0)
#define SHALLOW	       (1u << 1)
#define NOT_SHALLOW    (1u << 2)
#define VISITED	       (1u << 3)

struct fifo {
	struct gg_commit **items;
	size_t head, nr, alloc;
};

static int fifo_push(struct fifo *f, struct gg_commit *c)
{
	if (f->nr == f->alloc) {
		size_t n = f->alloc ? f->alloc * 2 : 64;
		struct gg_commit **items = realloc(f->items, n * sizeof(*items));

		if (!items) {
			git_error_set_oom();
			return -1;
		}
		f->items = items;
		f->alloc = n;
	}
	f->items[f->nr++] = c;
	return 0;
}

/* Looks up the existing client shallows and flags them. */
static int mark_client_shallows(struct gg_commit_graph *g, const struct gg_oid_array *shallows,
				struct gg_shallow_result *out)
{
	struct gg_commit *c;
	size_t i;
	int error;

	for (i = 0; shallows && i < shallows->nr; i++) {
		error = gg_commit_graph_lookup(&c, g, &shallows->ids[i], false);
		if (error == GIT_ENOTFOUND) {
			git_error_clear();
			continue; /* not ours: nothing to cut */
		}
		if (error < 0)
			return error;
		c->flags |= CLIENT_SHALLOW;
		if (gg_oidset_add(&out->boundary, &c->oid) < 0)
			return -1;
	}
	return 0;
}

static int shallow_by_depth(struct gg_commit_graph *g, const struct gg_shallow_request *req,
			    struct fifo *result)
{
	const struct gg_oid_array *heads = req->relative ? req->client_shallows : req->wants;
	uint32_t limit = req->relative ? req->depth + 1 : req->depth;
	struct fifo q = {NULL, 0, 0, 0};
	struct gg_commit *c;
	size_t i;
	uint32_t j;
	int error = 0;

	for (i = 0; heads && i < heads->nr; i++) {
		error = gg_commit_graph_lookup(&c, g, &heads->ids[i], true);
		if (error == GIT_ENOTFOUND) {
			git_error_clear();
			error = 0;
			continue;
		}
		if (error < 0)
			goto done;
		if (c->depth)
			continue;
		c->depth = 1;
		if ((error = fifo_push(&q, c)) < 0)
			goto done;
	}
	for (; q.head < q.nr; q.head++) {
		c = q.items[q.head];
		if ((error = gg_commit_parse(g, c)) < 0)
			goto done;
		if (c->depth >= limit) {
			c->flags |= SHALLOW;
			if ((error = fifo_push(result, c)) < 0)
				goto done;
			continue;
		}
		c->flags |= NOT_SHALLOW;
		for (j = 0; j < c->nparents; j++) {
			struct gg_commit *p = c->parents[j];

			if (p->depth)
				continue;
			p->depth = c->depth + 1;
			if ((error = fifo_push(&q, p)) < 0)
				goto done;
		}
	}
done:
	free(q.items);
	return error;
}

/*
 * deepen-not: the commits reachable from the wants but not from any
 * deepen-not tip, as libgit2's revwalk computes them.
 */
static int load_not_excluded(struct gg_oidmap *kept, const struct gg_shallow_request *req)
{
	git_revwalk *walk = NULL;
	git_oid id;
	size_t i;
	int error;

	if ((error = git_revwalk_new(&walk, req->repo)) < 0)
		return error;
	for (i = 0; i < req->wants->nr + req->not_tips->nr; i++) {
		bool want = i < req->wants->nr;
		const git_oid *oid =
		    want ? &req->wants->ids[i] : &req->not_tips->ids[i - req->wants->nr];

		error = want ? git_revwalk_push(walk, oid) : git_revwalk_hide(walk, oid);
		if (error == GIT_ENOTFOUND || error == GIT_EINVALIDSPEC || error == GIT_EPEEL) {
			/* Not a commit-ish: it has no history to cut. */
			git_error_clear();
			error = 0;
		}
		if (error < 0)
			goto done;
	}
	while ((error = git_revwalk_next(&id, walk)) == 0)
		if (gg_oidset_add(kept, &id) < 0) {
			error = -1;
			goto done;
		}
	if (error == GIT_ITEROVER) {
		git_error_clear();
		error = 0;
	}
done:
	git_revwalk_free(walk);
	return error;
}

static int shallow_by_rev_list(struct gg_commit_graph *g, const struct gg_shallow_request *req,
			       struct fifo *result)
{
	bool use_not = req->not_tips && req->not_tips->nr;
	struct gg_oidmap not_excluded = GG_OIDMAP_INIT;
	struct fifo q = {NULL, 0, 0, 0};
	struct gg_commit *c;
	size_t i, nkept = 0;
	uint32_t j;
	int error;

	if (use_not && (error = load_not_excluded(&not_excluded, req)) < 0)
		goto done;
	for (i = 0; i < req->wants->nr; i++) {
		error = gg_commit_graph_lookup(&c, g, &req->wants->ids[i], true);
		if (error == GIT_ENOTFOUND) {
			git_error_clear();
			continue;
		}
		if (error < 0)
			goto done;
		if (c->flags & VISITED)
			continue;
		c->flags |= VISITED;
		if ((error = fifo_push(&q, c)) < 0)
			goto done;
	}
	error = 0;
	/* Walk only through kept commits, from the wants. */
	for (; q.head < q.nr; q.head++) {
		c = q.items[q.head];
		if ((error = gg_commit_parse(g, c)) < 0)
			goto done;
		if (use_not && !gg_oidmap_contains(&not_excluded, &c->oid))
			continue;
		if (req->since && c->time < req->since)
			continue;
		c->flags |= NOT_SHALLOW;
		nkept++;
		for (j = 0; j < c->nparents; j++) {
			struct gg_commit *p = c->parents[j];

			if (p->flags & VISITED)
				continue;
			p->flags |= VISITED;
			if ((error = fifo_push(&q, p)) < 0)
				goto done;
		}
	}
	if (!nkept) {
		git_error_set_str(GIT_ERROR_INVALID, "no commits selected for shallow requests");
		error = -1;
		goto done;
	}
	/* The boundary: kept commits with a parent that is not kept. */
	for (i = 0; i < q.nr; i++) {
		c = q.items[i];
		if (!(c->flags & NOT_SHALLOW))
			continue;
		for (j = 0; j < c->nparents; j++) {
			if (!(c->parents[j]->flags & NOT_SHALLOW)) {
				c->flags |= SHALLOW;
				if ((error = fifo_push(result, c)) < 0)
					goto done;
				break;
			}
		}
	}
	/* Only now: clearing earlier would make a child of a boundary look like one. */
	for (i = 0; i < result->nr; i++)
		result->items[i]->flags &= ~NOT_SHALLOW;
done:
	free(q.items);
	gg_oidmap_clear(&not_excluded);
	return error;
}

static int collect(struct gg_shallow_result *out, struct gg_commit_graph *g,
		   const struct gg_shallow_request *req, struct fifo *result)
{
	struct gg_commit *c;
	size_t i;
	uint32_t j;
	int error;

	for (i = 0; i < result->nr; i++) {
		c = result->items[i];
		if (gg_oidset_add(&out->boundary, &c->oid) < 0)
			return -1;
		if (!(c->flags & (CLIENT_SHALLOW | NOT_SHALLOW)) &&
		    gg_oid_array_append(&out->shallow, &c->oid) < 0)
			return -1;
	}
	for (i = 0; req->client_shallows && i < req->client_shallows->nr; i++) {
		c = gg_oidmap_get(&g->nodes, &req->client_shallows->ids[i]);
		if (!c || !(c->flags & CLIENT_SHALLOW) || !(c->flags & NOT_SHALLOW))
			continue;
		c->flags &= ~CLIENT_SHALLOW; /* announce once */
		if ((error = gg_commit_parse(g, c)) < 0)
			return error;
		if (gg_oid_array_append(&out->unshallow, &c->oid) < 0 ||
		    gg_oid_array_append(&out->edges, &c->oid) < 0)
			return -1;
		for (j = 0; j < c->nparents; j++)
			if (gg_oid_array_append(&out->extra_wants, &c->parents[j]->oid) < 0)
				return -1;
	}
	return 0;
}

int gg_shallow_compute(struct gg_shallow_result *out, const struct gg_shallow_request *req)
{
	struct gg_commit_graph g;
	struct fifo result = {NULL, 0, 0, 0};
	size_t i;
	int error;

	memset(out, 0, sizeof(*out));
	gg_commit_graph_init(&g, req->repo);
	if ((error = mark_client_shallows(&g, req->client_shallows, out)) < 0)
		goto done;
	if (req->depth >= GG_INFINITE_DEPTH) {
		/* --unshallow: every boundary of the client goes. */
		for (i = 0; req->client_shallows && i < req->client_shallows->nr; i++) {
			struct gg_commit *c =
			    gg_oidmap_get(&g.nodes, &req->client_shallows->ids[i]);

			if (c && (c->flags & CLIENT_SHALLOW))
				c->flags |= NOT_SHALLOW;
		}
	} else if (req->depth) {
		error = shallow_by_depth(&g, req, &result);
	} else {
		error = shallow_by_rev_list(&g, req, &result);
	}
	if (error < 0 || (error = collect(out, &g, req, &result)) < 0)
		goto done;
done:
	free(result.items);
	gg_commit_graph_clear(&g);
	if (error < 0)
		gg_shallow_result_clear(out);
	return error;
}

int gg_shallow_keep(struct gg_shallow_result *out, git_repository *repo,
		    const struct gg_oid_array *client_shallows)
{
	struct gg_commit_graph g;
	int error;

	memset(out, 0, sizeof(*out));
	gg_commit_graph_init(&g, repo);
	error = mark_client_shallows(&g, client_shallows, out);
	gg_commit_graph_clear(&g);
	if (error < 0)
		gg_shallow_result_clear(out);
	return error;
}

void gg_shallow_result_clear(struct gg_shallow_result *res)
{
	gg_oid_array_clear(&res->shallow);
	gg_oid_array_clear(&res->unshallow);
	gg_oidmap_clear(&res->boundary);
	gg_oid_array_clear(&res->extra_wants);
	gg_oid_array_clear(&res->edges);
}
