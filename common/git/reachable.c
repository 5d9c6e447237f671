/*
 * reachable.c - see reachable.h.
 *
 * Most wants are ref tips and cost one lookup.  The rest are checked with
 * one walk from all tips, newest commits first, which stops as soon as
 * every such want has been met; trees are only opened while non-commit
 * wants remain, and each tree at most once.
 */
#include "reachable.h"

#include <string.h>

#include "commit_graph.h"

#define SEEN (1u << 0)

struct reach {
	git_repository *repo;
	git_odb *odb;
	struct gg_oidmap tips;	  /* ref values, peeled values, tag chains */
	struct gg_oidmap pending; /* wants not met yet: oid -> (void *)type */
	size_t npending_commits, npending_other;
	struct gg_oidmap trees_seen;
	struct gg_commit_graph graph;
	struct gg_commit_queue queue;
};

/* Adds ref's value, the tags in its chain and its peeled value as tips. */
static int add_tip(struct reach *r, const struct gg_ref *ref)
{
	git_tag *tag = NULL;
	git_oid id;
	int depth = 0, error = 0;

	if (!ref->name)
		return 0;
	if (gg_oidset_add(&r->tips, &ref->oid) < 0)
		return -1;
	if (!ref->is_tag)
		return 0;
	if (gg_oidset_add(&r->tips, &ref->peeled) < 0)
		return -1;
	git_oid_cpy(&id, &ref->oid);
	while (!git_oid_equal(&id, &ref->peeled) && depth++ < 100) {
		if ((error = git_tag_lookup(&tag, r->repo, &id)) < 0)
			return error;
		git_oid_cpy(&id, git_tag_target_id(tag));
		git_tag_free(tag);
		if (gg_oidset_add(&r->tips, &id) < 0)
			return -1;
	}
	return 0;
}

static int meet(struct reach *r, const git_oid *oid)
{
	void **slot;
	git_object_t type;

	if (!gg_oidmap_contains(&r->pending, oid))
		return 0;
	if (gg_oidmap_insert(&r->pending, oid, &slot) < 0)
		return -1;
	if (!*slot)
		return 0; /* already met */
	type = (git_object_t)(intptr_t)*slot;
	*slot = NULL;
	if (type == GIT_OBJECT_COMMIT)
		r->npending_commits--;
	else
		r->npending_other--;
	return 0;
}

static bool all_met(const struct reach *r)
{
	return r->npending_commits == 0 && r->npending_other == 0;
}

static int scan_tree(struct reach *r, const git_oid *root)
{
	struct gg_oid_array stack = GG_OID_ARRAY_INIT;
	git_tree *tree = NULL;
	int error = 0, added;

	if ((added = gg_oidset_add(&r->trees_seen, root)) <= 0)
		return added;
	if ((error = meet(r, root)) < 0 || gg_oid_array_append(&stack, root) < 0)
		return -1;
	while (stack.nr && r->npending_other) {
		git_oid id = stack.ids[--stack.nr];
		size_t i, n;

		if ((error = git_tree_lookup(&tree, r->repo, &id)) < 0)
			goto done;
		n = git_tree_entrycount(tree);
		for (i = 0; i < n; i++) {
			const git_tree_entry *e = git_tree_entry_byindex(tree, i);
			const git_oid *eid = git_tree_entry_id(e);
			git_object_t type = git_tree_entry_type(e);

			if (type == GIT_OBJECT_BLOB) {
				if ((error = meet(r, eid)) < 0)
					goto done;
			} else if (type == GIT_OBJECT_TREE) {
				if ((added = gg_oidset_add(&r->trees_seen, eid)) < 0 ||
				    (added && meet(r, eid) < 0) ||
				    (added && gg_oid_array_append(&stack, eid) < 0)) {
					error = -1;
					goto done;
				}
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

static int push_tip(struct reach *r, const git_oid *oid)
{
	struct gg_commit *c;
	git_object_t type;
	size_t size;
	int error;

	if ((error = git_odb_read_header(&size, &type, r->odb, oid)) < 0)
		return error;
	if (type == GIT_OBJECT_TREE)
		return r->npending_other ? scan_tree(r, oid) : 0;
	if (type != GIT_OBJECT_COMMIT)
		return 0;
	if ((error = gg_commit_graph_lookup(&c, &r->graph, oid, false)) < 0)
		return error;
	if (c->flags & SEEN)
		return 0;
	c->flags |= SEEN;
	return gg_commit_queue_push(&r->queue, c);
}

static int walk(struct reach *r)
{
	const struct gg_oidmap_entry *e;
	struct gg_commit *c;
	size_t it = 0;
	uint32_t i;
	int error;

	while (gg_oidmap_next(&r->tips, &it, &e))
		if ((error = push_tip(r, &e->oid)) < 0)
			return error;
	while (!all_met(r) && (c = gg_commit_queue_pop(&r->queue))) {
		if ((error = meet(r, &c->oid)) < 0)
			return error;
		if (r->npending_other && (error = scan_tree(r, &c->tree)) < 0)
			return error;
		for (i = 0; i < c->nparents; i++) {
			struct gg_commit *p = c->parents[i];

			if (p->flags & SEEN)
				continue;
			if ((error = gg_commit_parse(&r->graph, p)) < 0)
				return error;
			p->flags |= SEEN;
			if ((error = gg_commit_queue_push(&r->queue, p)) < 0)
				return error;
		}
	}
	return 0;
}

int gg_check_wants(git_oid *refused, git_repository *repo, const struct gg_ref_list *refs,
		   const struct gg_oid_array *wants)
{
	struct reach r;
	const struct gg_oidmap_entry *e;
	size_t i, it = 0;
	int error;

	memset(&r, 0, sizeof(r));
	r.repo = repo;
	gg_commit_graph_init(&r.graph, repo);
	if ((error = git_repository_odb(&r.odb, repo)) < 0)
		goto done;
	if ((error = add_tip(&r, &refs->head)) < 0)
		goto done;
	for (i = 0; i < refs->nr; i++)
		if ((error = add_tip(&r, &refs->refs[i])) < 0)
			goto done;
	for (i = 0; i < wants->nr; i++) {
		const git_oid *id = &wants->ids[i];
		git_object_t type;
		size_t size;
		void **slot;

		if (gg_oidmap_contains(&r.tips, id))
			continue;
		error = git_odb_exists_ext(r.odb, id, GIT_ODB_LOOKUP_NO_REFRESH)
			    ? git_odb_read_header(&size, &type, r.odb, id)
			    : GIT_ENOTFOUND;
		if (error == GIT_ENOTFOUND) {
			git_error_clear();
			git_oid_cpy(refused, id);
			error = 1;
			goto done;
		}
		if (error < 0)
			goto done;
		if ((error = gg_oidmap_insert(&r.pending, id, &slot)) < 0)
			goto done;
		if (error == 0)
			continue;
		*slot = (void *)(intptr_t)type;
		if (type == GIT_OBJECT_COMMIT)
			r.npending_commits++;
		else
			r.npending_other++;
	}
	error = 0;
	if (all_met(&r) || (error = walk(&r)) < 0)
		goto done;
	while (gg_oidmap_next(&r.pending, &it, &e)) {
		if (e->value) {
			git_oid_cpy(refused, &e->oid);
			error = 1;
			break;
		}
	}
done:
	gg_commit_queue_clear(&r.queue);
	gg_commit_graph_clear(&r.graph);
	gg_oidmap_clear(&r.trees_seen);
	gg_oidmap_clear(&r.pending);
	gg_oidmap_clear(&r.tips);
	git_odb_free(r.odb);
	return error;
}
