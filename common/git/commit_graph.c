/*
 * commit_graph.c - see commit_graph.h.
 */
#include "commit_graph.h"

#include <stdlib.h>
#include <string.h>

void gg_commit_graph_init(struct gg_commit_graph *g, git_repository *repo)
{
	g->repo = repo;
	memset(&g->nodes, 0, sizeof(g->nodes));
}

void gg_commit_graph_clear(struct gg_commit_graph *g)
{
	const struct gg_oidmap_entry *e;
	size_t i = 0;

	while (gg_oidmap_next(&g->nodes, &i, &e)) {
		struct gg_commit *c = e->value;

		if (c) {
			free(c->parents);
			free(c);
		}
	}
	gg_oidmap_clear(&g->nodes);
}

int gg_commit_graph_node(struct gg_commit **out, struct gg_commit_graph *g, const git_oid *oid)
{
	void **slot;
	struct gg_commit *c;
	int r = gg_oidmap_insert(&g->nodes, oid, &slot);

	if (r < 0)
		return -1;
	if (r == 0 && *slot) {
		*out = *slot;
		return 0;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		git_error_set_oom();
		return -1;
	}
	git_oid_cpy(&c->oid, oid);
	*slot = c;
	*out = c;
	return 0;
}

int gg_commit_parse(struct gg_commit_graph *g, struct gg_commit *c)
{
	git_commit *commit = NULL;
	unsigned int i, n;
	int error;

	if (c->parsed)
		return 0;
	if ((error = git_commit_lookup(&commit, g->repo, &c->oid)) < 0)
		return error;
	n = git_commit_parentcount(commit);
	if (n && !(c->parents = calloc(n, sizeof(*c->parents)))) {
		git_error_set_oom();
		error = -1;
		goto done;
	}
	for (i = 0; i < n; i++) {
		if ((error = gg_commit_graph_node(&c->parents[i], g,
						  git_commit_parent_id(commit, i))) < 0)
			goto done;
	}
	c->nparents = n;
	c->time = git_commit_time(commit);
	git_oid_cpy(&c->tree, git_commit_tree_id(commit));
	c->parsed = true;
done:
	if (error < 0) {
		free(c->parents);
		c->parents = NULL;
	}
	git_commit_free(commit);
	return error;
}

int gg_commit_graph_lookup(struct gg_commit **out, struct gg_commit_graph *g, const git_oid *oid,
			   bool peel)
{
	git_object *obj = NULL, *peeled = NULL;
	struct gg_commit *c;
	int error;

	c = gg_oidmap_get(&g->nodes, oid);
	if (c && c->parsed) {
		*out = c;
		return 0;
	}
	if (peel) {
		if ((error = git_object_lookup(&obj, g->repo, oid, GIT_OBJECT_ANY)) < 0)
			return error;
		if (git_object_type(obj) == GIT_OBJECT_TAG) {
			error = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
			git_object_free(obj);
			if (error < 0) {
				/* A tag of a tree or blob is not a commit. */
				git_error_clear();
				return GIT_ENOTFOUND;
			}
			error = gg_commit_graph_lookup(out, g, git_object_id(peeled), false);
			git_object_free(peeled);
			return error;
		}
		if (git_object_type(obj) != GIT_OBJECT_COMMIT) {
			git_object_free(obj);
			return GIT_ENOTFOUND;
		}
		git_object_free(obj);
	}
	if ((error = gg_commit_graph_node(&c, g, oid)) < 0)
		return error;
	if ((error = gg_commit_parse(g, c)) < 0) {
		if (error == GIT_EINVALIDSPEC || error == GIT_ENOTFOUND) {
			git_error_clear();
			return GIT_ENOTFOUND;
		}
		return error;
	}
	*out = c;
	return 0;
}

static bool newer(const struct gg_commit *a, const struct gg_commit *b)
{
	return a->time > b->time;
}

int gg_commit_queue_push(struct gg_commit_queue *q, struct gg_commit *c)
{
	size_t i;

	if (q->nr == q->alloc) {
		size_t alloc = q->alloc ? q->alloc * 2 : 64;
		struct gg_commit **items = realloc(q->items, alloc * sizeof(*items));

		if (!items) {
			git_error_set_oom();
			return -1;
		}
		q->items = items;
		q->alloc = alloc;
	}
	i = q->nr++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!newer(c, q->items[parent]))
			break;
		q->items[i] = q->items[parent];
		i = parent;
	}
	q->items[i] = c;
	return 0;
}

struct gg_commit *gg_commit_queue_pop(struct gg_commit_queue *q)
{
	struct gg_commit *top, *last;
	size_t i = 0;

	if (!q->nr)
		return NULL;
	top = q->items[0];
	last = q->items[--q->nr];
	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= q->nr)
			break;
		if (child + 1 < q->nr && newer(q->items[child + 1], q->items[child]))
			child++;
		if (!newer(q->items[child], last))
			break;
		q->items[i] = q->items[child];
		i = child;
	}
	if (q->nr)
		q->items[i] = last;
	return top;
}

void gg_commit_queue_clear(struct gg_commit_queue *q)
{
	free(q->items);
	q->items = NULL;
	q->nr = q->alloc = 0;
}
