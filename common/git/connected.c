/*
 * connected.c - see connected.h.
 */
#include "connected.h"

#include <stdlib.h>
#include <string.h>

#include "oidmap.h"

struct check {
	git_repository *repo;
	git_odb *odb;	     /* the repository, quarantine included */
	git_odb *quarantine; /* may be NULL */
	struct gg_oidmap trees_seen;
};

static bool exists(const struct check *c, const git_oid *oid)
{
	return git_odb_exists_ext(c->odb, oid, GIT_ODB_LOOKUP_NO_REFRESH);
}

static bool is_new(const struct check *c, const git_oid *oid)
{
	return c->quarantine && git_odb_exists_ext(c->quarantine, oid, GIT_ODB_LOOKUP_NO_REFRESH);
}

/* 0 when the tree and all it holds exist, 1 when something is missing. */
static int check_tree(struct check *c, const git_oid *root)
{
	struct gg_oid_array stack = GG_OID_ARRAY_INIT;
	git_tree *tree = NULL;
	int error = 0, added;

	if ((added = gg_oidset_add(&c->trees_seen, root)) <= 0)
		return added;
	if (!exists(c, root))
		return 1;
	if (!is_new(c, root))
		return 0;
	if (gg_oid_array_append(&stack, root) < 0)
		return -1;
	while (stack.nr) {
		git_oid id = stack.ids[--stack.nr];
		size_t i, n;

		if ((error = git_tree_lookup(&tree, c->repo, &id)) < 0)
			goto done;
		n = git_tree_entrycount(tree);
		for (i = 0; i < n; i++) {
			const git_tree_entry *e = git_tree_entry_byindex(tree, i);
			const git_oid *eid = git_tree_entry_id(e);
			git_object_t type = git_tree_entry_type(e);

			if (type == GIT_OBJECT_BLOB) {
				if (!exists(c, eid)) {
					error = 1;
					goto done;
				}
			} else if (type == GIT_OBJECT_TREE) {
				if ((added = gg_oidset_add(&c->trees_seen, eid)) < 0) {
					error = -1;
					goto done;
				}
				if (!added)
					continue;
				if (!exists(c, eid)) {
					error = 1;
					goto done;
				}
				if (is_new(c, eid) && gg_oid_array_append(&stack, eid) < 0) {
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

/*
 * Parents of the commits this push brought must exist before libgit2's
 * revwalk meets them: its error path on a missing commit leaks (1.5), and
 * a missing parent can only hang below a new commit.
 */
static int check_new_parents(struct check *c, const git_oid *start, struct gg_oidmap *seen)
{
	struct gg_oid_array stack = GG_OID_ARRAY_INIT;
	git_commit *commit = NULL;
	int error = 0, added;

	if (!is_new(c, start))
		return 0;
	/* A commit met from an earlier tip has been checked with its parents. */
	if ((added = gg_oidset_add(seen, start)) <= 0)
		return added;
	if (gg_oid_array_append(&stack, start) < 0) {
		error = -1;
		goto done;
	}
	while (stack.nr) {
		git_oid id = stack.ids[--stack.nr];
		unsigned int i, n;

		if (git_commit_lookup(&commit, c->repo, &id) < 0) {
			error = 1;
			goto done;
		}
		n = git_commit_parentcount(commit);
		for (i = 0; i < n; i++) {
			const git_oid *p = git_commit_parent_id(commit, i);

			if (!exists(c, p)) {
				error = 1;
				goto done;
			}
			if (!is_new(c, p))
				continue;
			if ((added = gg_oidset_add(seen, p)) < 0 ||
			    (added && gg_oid_array_append(&stack, p) < 0)) {
				error = -1;
				goto done;
			}
		}
		git_commit_free(commit);
		commit = NULL;
	}
done:
	git_commit_free(commit);
	gg_oid_array_clear(&stack);
	return error;
}

static void hide_known(git_revwalk *walk, const struct gg_ref *ref)
{
	if (!ref->name)
		return;
	/* Refs to trees or blobs hide nothing; that is fine. */
	if (git_revwalk_hide(walk, ref->is_tag ? &ref->peeled : &ref->oid) < 0)
		git_error_clear();
}

/* One walk from every new commit tip down to what the known refs reach. */
static int check_commits(struct check *c, const struct gg_ref_list *known, const git_oid *starts,
			 size_t nstarts)
{
	struct gg_oidmap seen = GG_OIDMAP_INIT;
	git_revwalk *walk = NULL;
	git_commit *commit = NULL;
	git_oid id;
	size_t i;
	int error = 0;

	for (i = 0; i < nstarts && !error; i++)
		error = check_new_parents(c, &starts[i], &seen);
	gg_oidmap_clear(&seen);
	if (error)
		return error;
	if ((error = git_revwalk_new(&walk, c->repo)) < 0)
		return error;
	hide_known(walk, &known->head);
	for (i = 0; i < known->nr; i++)
		hide_known(walk, &known->refs[i]);
	for (i = 0; i < nstarts; i++) {
		if (git_revwalk_push(walk, &starts[i]) < 0) {
			error = 1;
			goto done;
		}
	}
	while ((error = git_revwalk_next(&id, walk)) == 0) {
		if (git_commit_lookup(&commit, c->repo, &id) < 0) {
			error = 1;
			goto done;
		}
		error = check_tree(c, git_commit_tree_id(commit));
		git_commit_free(commit);
		commit = NULL;
		if (error)
			goto done;
	}
	/* Anything but the end of the walk means a parent could not be read. */
	error = error == GIT_ITEROVER ? 0 : 1;
done:
	if (error >= 0)
		git_error_clear();
	git_revwalk_free(walk);
	return error;
}

/* Follows tags from *id to what they name; 1 when something is missing. */
static int peel(struct check *c, git_oid *id, git_object_t *type)
{
	git_tag *tag = NULL;
	size_t size;
	int depth = 0;

	for (;;) {
		if (!exists(c, id) || git_odb_read_header(&size, type, c->odb, id) < 0)
			return 1;
		if (*type != GIT_OBJECT_TAG)
			return 0;
		if (++depth > 100 || git_tag_lookup(&tag, c->repo, id) < 0)
			return 1;
		git_oid_cpy(id, git_tag_target_id(tag));
		git_tag_free(tag);
	}
}

int gg_check_connected_all(git_repository *repo, git_odb *quarantine,
			   const struct gg_ref_list *known, const git_oid *tips, size_t ntips)
{
	struct check c;
	git_oid *commits = NULL;
	size_t i, ncommits = 0;
	int error = 0;

	memset(&c, 0, sizeof(c));
	c.repo = repo;
	c.quarantine = quarantine;
	if ((error = git_repository_odb(&c.odb, repo)) < 0)
		return error;
	if (ntips && !(commits = calloc(ntips, sizeof(*commits)))) {
		git_error_set_oom();
		error = -1;
		goto done;
	}
	for (i = 0; i < ntips && !error; i++) {
		git_object_t type;
		git_oid id;

		git_oid_cpy(&id, &tips[i]);
		if ((error = peel(&c, &id, &type)) != 0)
			break;
		if (type == GIT_OBJECT_COMMIT)
			git_oid_cpy(&commits[ncommits++], &id);
		else if (type == GIT_OBJECT_TREE)
			error = check_tree(&c, &id);
	}
	if (!error && ncommits)
		error = check_commits(&c, known, commits, ncommits);
done:
	if (error > 0)
		git_error_clear();
	free(commits);
	gg_oidmap_clear(&c.trees_seen);
	git_odb_free(c.odb);
	return error;
}

int gg_check_connected(git_repository *repo, git_odb *quarantine, const struct gg_ref_list *known,
		       const git_oid *tip)
{
	return gg_check_connected_all(repo, quarantine, known, tip, 1);
}
