/*
 * object_walk.c - see object_walk.h.
 *
 * The commit walk follows git's "limit_list": wanted and known commits go
 * into one queue ordered by date; known-ness (UNINTERESTING) flows down to
 * parents, also to parents already queued, and the walk ends a few steps
 * after only known commits remain.  Shallow boundaries are walked as if
 * they had no parents, for both sides: the client has nothing beyond them.
 */
#include "object_walk.h"

#include <stdlib.h>
#include <string.h>

#include "commit_graph.h"

/* Commit flags. */
#define SEEN	      (1u << 0)
#define UNINTERESTING (1u << 1)

/* Object states in walk.objects (stored as the map value). */
#define OBJ_KNOWN   ((void *)1) /* the client has it */
#define OBJ_ADDED   ((void *)2) /* listed for the pack */
#define OBJ_OMITTED ((void *)3) /* left out by the filter */

/* Steps to go on once only known commits are queued, against clock skew. */
#define SLOP 5

struct walk {
	const struct gg_walk_request *req;
	git_odb *odb;
	struct gg_commit_graph graph;
	struct gg_commit_queue queue;
	struct gg_oidmap objects;
	struct gg_commit **result;
	size_t nresult, result_alloc;
	struct gg_oid_array roots; /* trees to enumerate: from tree wants */
	gg_walk_add_cb add;
	gg_walk_progress_cb progress;
	void *ctx;
	size_t count;
};

int gg_filter_parse(struct gg_filter *out, const char *spec)
{
	const char *rest;
	unsigned long long n = 0;
	char *end;

	memset(out, 0, sizeof(*out));
	if (!strcmp(spec, "blob:none")) {
		out->kind = GG_FILTER_BLOB_NONE;
		return 0;
	}
	if (!strcmp(spec, "tree:0")) {
		out->kind = GG_FILTER_TREE_0;
		return 0;
	}
	if (!strncmp(spec, "blob:limit=", 11)) {
		rest = spec + 11;
		if (*rest < '0' || *rest > '9')
			goto bad;
		n = strtoull(rest, &end, 10);
		switch (*end) {
		case 'k':
		case 'K':
			n <<= 10, end++;
			break;
		case 'm':
		case 'M':
			n <<= 20, end++;
			break;
		case 'g':
		case 'G':
			n <<= 30, end++;
			break;
		default:
			break;
		}
		if (*end)
			goto bad;
		out->kind = GG_FILTER_BLOB_LIMIT;
		out->blob_limit = n;
		return 0;
	}
bad:
	git_error_set(GIT_ERROR_INVALID, "unsupported filter-spec '%s'", spec);
	return -1;
}

static bool is_shallow(const struct walk *w, const struct gg_commit *c)
{
	return w->req->shallow && gg_oidmap_contains(w->req->shallow, &c->oid);
}

static int object_state(struct walk *w, const git_oid *oid, void ***slot)
{
	return gg_oidmap_insert(&w->objects, oid, slot);
}

static int emit(struct walk *w, const git_oid *oid, git_object_t type, const char *name)
{
	int error;

	if ((error = w->add(w->ctx, oid, type, name)) != 0)
		return error;
	w->count++;
	if (w->progress && (w->count & 1023) == 0)
		return w->progress(w->ctx, w->count);
	return 0;
}

/* Lists an object unless it is known or listed already. */
static int add_object(struct walk *w, const git_oid *oid, git_object_t type, const char *name)
{
	void **slot;
	int r = object_state(w, oid, &slot);

	if (r < 0)
		return -1;
	if (*slot)
		return 0;
	*slot = OBJ_ADDED;
	return emit(w, oid, type, name);
}

/* Marks a tree and everything below it as known to the client. */
static int mark_tree_known(struct walk *w, const git_oid *root)
{
	struct gg_oid_array stack = GG_OID_ARRAY_INIT;
	git_tree *tree = NULL;
	void **slot;
	int error = 0;

	if (object_state(w, root, &slot) < 0)
		return -1;
	if (*slot == OBJ_KNOWN)
		return 0;
	*slot = OBJ_KNOWN;
	if (gg_oid_array_append(&stack, root) < 0)
		return -1;
	while (stack.nr) {
		git_oid id = stack.ids[--stack.nr];
		size_t i, n;

		if ((error = git_tree_lookup(&tree, w->req->repo, &id)) < 0)
			goto done;
		n = git_tree_entrycount(tree);
		for (i = 0; i < n; i++) {
			const git_tree_entry *e = git_tree_entry_byindex(tree, i);
			git_object_t type = git_tree_entry_type(e);

			if (type != GIT_OBJECT_TREE && type != GIT_OBJECT_BLOB)
				continue; /* submodule commits live elsewhere */
			if (object_state(w, git_tree_entry_id(e), &slot) < 0) {
				error = -1;
				goto done;
			}
			if (*slot == OBJ_KNOWN)
				continue;
			*slot = OBJ_KNOWN;
			if (type == GIT_OBJECT_TREE &&
			    gg_oid_array_append(&stack, git_tree_entry_id(e)) < 0) {
				error = -1;
				goto done;
			}
		}
		git_tree_free(tree);
		tree = NULL;
	}
done:
	git_tree_free(tree);
	gg_oid_array_clear(&stack);
	return error;
}

static bool filter_keeps_blob(struct walk *w, const git_oid *oid, int *error)
{
	size_t size;
	git_object_t type;

	*error = 0;
	switch (w->req->filter.kind) {
	case GG_FILTER_NONE:
		return true;
	case GG_FILTER_BLOB_LIMIT:
		if ((*error = git_odb_read_header(&size, &type, w->odb, oid)) < 0)
			return false;
		return size < w->req->filter.blob_limit;
	default:
		return false;
	}
}

/* Lists a tree and, recursively, what it holds that the client lacks. */
static int add_tree(struct walk *w, const git_oid *root)
{
	struct gg_oid_array stack = GG_OID_ARRAY_INIT;
	git_tree *tree = NULL;
	void **slot;
	int error = 0;

	if (object_state(w, root, &slot) < 0)
		return -1;
	if (*slot)
		return 0;
	*slot = OBJ_ADDED;
	if ((error = emit(w, root, GIT_OBJECT_TREE, NULL)) != 0)
		return error;
	if (w->req->filter.kind == GG_FILTER_TREE_0)
		return 0;
	if (gg_oid_array_append(&stack, root) < 0)
		return -1;
	while (stack.nr) {
		git_oid id = stack.ids[--stack.nr];
		size_t i, n;

		if ((error = git_tree_lookup(&tree, w->req->repo, &id)) < 0)
			goto done;
		n = git_tree_entrycount(tree);
		for (i = 0; i < n; i++) {
			const git_tree_entry *e = git_tree_entry_byindex(tree, i);
			const git_oid *eid = git_tree_entry_id(e);
			git_object_t type = git_tree_entry_type(e);

			if (type != GIT_OBJECT_TREE && type != GIT_OBJECT_BLOB)
				continue;
			if (object_state(w, eid, &slot) < 0) {
				error = -1;
				goto done;
			}
			if (*slot)
				continue;
			if (type == GIT_OBJECT_BLOB && !filter_keeps_blob(w, eid, &error)) {
				if (error < 0)
					goto done;
				*slot = OBJ_OMITTED;
				continue;
			}
			*slot = OBJ_ADDED;
			if ((error = emit(w, eid, type, git_tree_entry_name(e))) != 0)
				goto done;
			if (type == GIT_OBJECT_TREE && gg_oid_array_append(&stack, eid) < 0) {
				error = -1;
				goto done;
			}
		}
		git_tree_free(tree);
		tree = NULL;
	}
done:
	git_tree_free(tree);
	gg_oid_array_clear(&stack);
	return error;
}

static int push_commit(struct walk *w, struct gg_commit *c, uint32_t flags)
{
	int error;

	if (c->flags & SEEN) {
		c->flags |= flags;
		return 0;
	}
	if ((error = gg_commit_parse(&w->graph, c)) < 0)
		return error;
	c->flags |= SEEN | flags;
	return gg_commit_queue_push(&w->queue, c);
}

/* Marks c and the ancestors already parsed as known to the client. */
static int mark_uninteresting(struct walk *w, struct gg_commit *c)
{
	struct gg_commit **stack = NULL;
	size_t nr = 0, alloc = 0;
	int error = 0;

	if (c->flags & UNINTERESTING)
		return 0;
	c->flags |= UNINTERESTING;
	for (;;) {
		uint32_t i;

		if (c->parsed && !is_shallow(w, c)) {
			for (i = 0; i < c->nparents; i++) {
				struct gg_commit *p = c->parents[i];

				if (p->flags & UNINTERESTING)
					continue;
				p->flags |= UNINTERESTING;
				if (nr == alloc) {
					size_t n = alloc ? alloc * 2 : 16;
					struct gg_commit **s = realloc(stack, n * sizeof(*s));

					if (!s) {
						git_error_set_oom();
						error = -1;
						goto done;
					}
					stack = s;
					alloc = n;
				}
				stack[nr++] = p;
			}
		}
		if (!nr)
			break;
		c = stack[--nr];
	}
done:
	free(stack);
	return error;
}

static bool everybody_uninteresting(const struct walk *w)
{
	size_t i;

	for (i = 0; i < w->queue.nr; i++)
		if (!(w->queue.items[i]->flags & UNINTERESTING))
			return false;
	return true;
}

static int append_result(struct walk *w, struct gg_commit *c)
{
	if (w->nresult == w->result_alloc) {
		size_t n = w->result_alloc ? w->result_alloc * 2 : 64;
		struct gg_commit **r = realloc(w->result, n * sizeof(*r));

		if (!r) {
			git_error_set_oom();
			return -1;
		}
		w->result = r;
		w->result_alloc = n;
	}
	w->result[w->nresult++] = c;
	return 0;
}

static int limit_commits(struct walk *w)
{
	struct gg_commit *c;
	int slop = SLOP, error;
	uint32_t i;

	while ((c = gg_commit_queue_pop(&w->queue))) {
		if (!is_shallow(w, c)) {
			for (i = 0; i < c->nparents; i++) {
				struct gg_commit *p = c->parents[i];

				if ((c->flags & UNINTERESTING) &&
				    (error = mark_uninteresting(w, p)) < 0)
					return error;
				if ((error = push_commit(w, p, 0)) < 0)
					return error;
			}
		}
		if (!(c->flags & UNINTERESTING) && (error = append_result(w, c)) < 0)
			return error;
		if (everybody_uninteresting(w)) {
			if (--slop == 0)
				break;
		} else {
			slop = SLOP;
		}
	}
	return 0;
}

/*
 * Resolves a want or have to its type, peeling tags.  Wanted tags are
 * listed on the way; *target_type / *target receive the first non-tag.
 */
static int resolve_tip(struct walk *w, const git_oid *oid, bool wanted, git_object_t *target_type,
		       git_oid *target)
{
	git_tag *tag = NULL;
	git_object_t type;
	size_t size;
	git_oid id;
	int error, depth = 0;

	git_oid_cpy(&id, oid);
	for (;;) {
		if ((error = git_odb_read_header(&size, &type, w->odb, &id)) < 0)
			return error;
		if (type != GIT_OBJECT_TAG)
			break;
		if (++depth > 100) {
			git_error_set_str(GIT_ERROR_INVALID, "tag chain too long");
			return -1;
		}
		if (wanted) {
			if ((error = add_object(w, &id, GIT_OBJECT_TAG, NULL)) != 0)
				return error;
		} else {
			void **slot;

			if (object_state(w, &id, &slot) < 0)
				return -1;
			if (!*slot)
				*slot = OBJ_KNOWN;
		}
		if ((error = git_tag_lookup(&tag, w->req->repo, &id)) < 0)
			return error;
		git_oid_cpy(&id, git_tag_target_id(tag));
		git_tag_free(tag);
	}
	*target_type = type;
	git_oid_cpy(target, &id);
	return 0;
}

static int start_walk(struct walk *w)
{
	const struct gg_walk_request *req = w->req;
	struct gg_commit *c;
	git_object_t type;
	git_oid target;
	void **slot;
	size_t i;
	int error;

	for (i = 0; req->haves && i < req->haves->nr; i++) {
		error = resolve_tip(w, &req->haves->ids[i], false, &type, &target);
		if (error == GIT_ENOTFOUND) {
			git_error_clear();
			continue;
		}
		if (error < 0)
			return error;
		if (type == GIT_OBJECT_COMMIT) {
			if ((error = gg_commit_graph_node(&c, &w->graph, &target)) < 0 ||
			    (error = push_commit(w, c, 0)) < 0 ||
			    (error = mark_uninteresting(w, c)) < 0)
				return error;
		} else if (type == GIT_OBJECT_TREE) {
			if ((error = mark_tree_known(w, &target)) < 0)
				return error;
		} else {
			if (object_state(w, &target, &slot) < 0)
				return -1;
			*slot = OBJ_KNOWN;
		}
	}
	for (i = 0; i < req->wants->nr; i++) {
		if ((error = resolve_tip(w, &req->wants->ids[i], true, &type, &target)) != 0)
			return error;
		if (type == GIT_OBJECT_COMMIT) {
			if ((error = gg_commit_graph_node(&c, &w->graph, &target)) < 0 ||
			    (error = push_commit(w, c, 0)) < 0)
				return error;
		} else if (type == GIT_OBJECT_TREE) {
			if (gg_oid_array_append(&w->roots, &target) < 0)
				return -1;
		} else if ((error = add_object(w, &target, type, NULL)) != 0) {
			/* An explicitly wanted blob is sent whatever the filter says. */
			return error;
		}
	}
	return 0;
}

/* Marks the trees of known commits next to sent ones, and of edges. */
static int mark_boundary_trees(struct walk *w)
{
	struct gg_commit *c;
	size_t i;
	uint32_t j;
	int error;

	for (i = 0; i < w->nresult; i++) {
		c = w->result[i];
		if (is_shallow(w, c))
			continue;
		for (j = 0; j < c->nparents; j++) {
			struct gg_commit *p = c->parents[j];

			if (!(p->flags & UNINTERESTING))
				continue;
			if ((error = gg_commit_parse(&w->graph, p)) < 0 ||
			    (error = mark_tree_known(w, &p->tree)) < 0)
				return error;
		}
	}
	for (i = 0; w->req->edges && i < w->req->edges->nr; i++) {
		error = gg_commit_graph_lookup(&c, &w->graph, &w->req->edges->ids[i], false);
		if (error == GIT_ENOTFOUND) {
			git_error_clear();
			continue;
		}
		if (error < 0 || (error = mark_tree_known(w, &c->tree)) < 0)
			return error;
	}
	return 0;
}

/* include-tag: annotated tags whose target goes into this pack. */
static int add_included_tags(struct walk *w)
{
	const struct gg_ref_list *refs = w->req->include_tags;
	git_tag *tag = NULL;
	size_t i;
	int error = 0;

	for (i = 0; i < refs->nr; i++) {
		const struct gg_ref *ref = &refs->refs[i];
		bool nested;
		git_oid id;

		if (!ref->is_tag || gg_oidmap_get(&w->objects, &ref->peeled) != OBJ_ADDED ||
		    gg_oidmap_get(&w->objects, &ref->oid) == OBJ_ADDED)
			continue;
		git_oid_cpy(&id, &ref->oid);
		while (!git_oid_equal(&id, &ref->peeled)) {
			if ((error = add_object(w, &id, GIT_OBJECT_TAG, NULL)) != 0 ||
			    (error = git_tag_lookup(&tag, w->req->repo, &id)) < 0)
				return error;
			git_oid_cpy(&id, git_tag_target_id(tag));
			nested = git_tag_target_type(tag) == GIT_OBJECT_TAG;
			git_tag_free(tag);
			if (!nested)
				break;
		}
	}
	return error;
}

/* The objects marked known, for the caller (thin packs). */
static int copy_known(struct walk *w, struct gg_oidmap *out)
{
	const struct gg_oidmap_entry *e;
	size_t it = 0;

	while (gg_oidmap_next(&w->objects, &it, &e))
		if (e->value == OBJ_KNOWN && gg_oidset_add(out, &e->oid) < 0)
			return -1;
	return 0;
}

int gg_object_walk(const struct gg_walk_request *req, gg_walk_add_cb add,
		   gg_walk_progress_cb progress, void *ctx)
{
	struct walk w;
	size_t i;
	int error;

	memset(&w, 0, sizeof(w));
	w.req = req;
	w.add = add;
	w.progress = progress;
	w.ctx = ctx;
	gg_commit_graph_init(&w.graph, req->repo);
	if ((error = git_repository_odb(&w.odb, req->repo)) < 0 || (error = start_walk(&w)) != 0 ||
	    (error = limit_commits(&w)) < 0)
		goto done;
	if (req->filter.kind != GG_FILTER_TREE_0 && (error = mark_boundary_trees(&w)) < 0)
		goto done;
	for (i = 0; i < w.nresult; i++) {
		if (w.result[i]->flags & UNINTERESTING)
			continue;
		if ((error = add_object(&w, &w.result[i]->oid, GIT_OBJECT_COMMIT, NULL)) != 0)
			goto done;
	}
	for (i = 0; req->filter.kind != GG_FILTER_TREE_0 && i < w.nresult; i++) {
		if (w.result[i]->flags & UNINTERESTING)
			continue;
		if ((error = add_tree(&w, &w.result[i]->tree)) != 0)
			goto done;
	}
	for (i = 0; i < w.roots.nr; i++)
		if ((error = add_tree(&w, &w.roots.ids[i])) != 0)
			goto done;
	if (req->include_tags && (error = add_included_tags(&w)) != 0)
		goto done;
	if (req->known && (error = copy_known(&w, req->known)) < 0)
		goto done;
done:
	free(w.result);
	gg_oid_array_clear(&w.roots);
	gg_oidmap_clear(&w.objects);
	gg_commit_queue_clear(&w.queue);
	gg_commit_graph_clear(&w.graph);
	git_odb_free(w.odb);
	return error;
}
