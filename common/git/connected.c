/*
 * connected.c - see connected.h.
 *
 * The commits to check are those the new tips reach and no known ref
 * reaches (git's rev-list NEW --not --all).  Usually every one of them
 * came in this push and the walk down from the tips meets only new
 * commits and the commits refs name: those are taken without looking at
 * any other ref (the quick walk).  Otherwise a walk painted from both
 * sides, newest commit first, as git's limit_list does, tells which
 * commits the refs reach; it is ours rather than libgit2's revwalk so
 * that a missing parent is an answer (1), not an error path that leaks.
 *
 * Each commit to check has its tree compared with its parents' trees,
 * path by path: an entry equal to the entry at the same path of a
 * parent's tree is complete, because that parent is either reached by a
 * ref or checked in the same run (and any failure fails the whole run).
 * Every other entry is opened, wherever it is stored.
 */
#include "connected.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oidmap.h"

enum {
	PARSED = 1 << 0,
	HIDDEN = 1 << 1,  /* a known ref reaches it */
	QUEUED = 1 << 2,  /* in the painted walk's queue */
	POPPED = 1 << 3,  /* out of it */
	VISITED = 1 << 4, /* met by the quick walk */
};

/* How many commits to take from the queue once only hidden ones are in it. */
#define SLOP 5

struct node {
	git_oid oid, tree;
	int64_t time;
	unsigned int flags, nparents;
	struct node **parents;
};

struct node_list {
	struct node **v;
	size_t nr, alloc;
};

struct check {
	git_repository *repo;
	git_odb *odb;		     /* the repository, quarantine included */
	git_odb *quarantine;	     /* may be NULL */
	struct gg_oidmap trees_done; /* checked (complete if the whole run succeeds) */
	struct gg_oidmap nodes;	     /* commit id -> struct node */
	struct node_list out;	     /* the commits to check */
	struct node_list queue;	     /* the painted walk's, newest first */
	size_t queued_interesting;
};

static bool exists(const struct check *c, const git_oid *oid)
{
	return git_odb_exists_ext(c->odb, oid, GIT_ODB_LOOKUP_NO_REFRESH);
}

static bool is_new(const struct check *c, const git_oid *oid)
{
	return c->quarantine && git_odb_exists_ext(c->quarantine, oid, GIT_ODB_LOOKUP_NO_REFRESH);
}

static int list_push(struct node_list *l, struct node *n)
{
	if (l->nr == l->alloc) {
		size_t alloc = l->alloc ? l->alloc * 2 : 32;
		struct node **v = realloc(l->v, alloc * sizeof(*v));

		if (!v) {
			git_error_set_oom();
			return -1;
		}
		l->v = v;
		l->alloc = alloc;
	}
	l->v[l->nr++] = n;
	return 0;
}

static struct node *get_node(struct check *c, const git_oid *oid)
{
	void **slot;
	int added = gg_oidmap_insert(&c->nodes, oid, &slot);

	if (added < 0)
		return NULL;
	if (!added)
		return *slot;
	if (!(*slot = calloc(1, sizeof(struct node)))) {
		git_error_set_oom();
		return NULL;
	}
	git_oid_cpy(&((struct node *)*slot)->oid, oid);
	return *slot;
}

/* Reads a commit's tree, date and parents: 0, 1 when it is missing or no commit, -1. */
static int parse(struct check *c, struct node *n)
{
	git_commit *commit = NULL;
	unsigned int i, np;
	int error = 0;

	if (n->flags & PARSED)
		return 0;
	if (!exists(c, &n->oid))
		return 1;
	if (git_commit_lookup(&commit, c->repo, &n->oid) < 0) {
		git_error_clear();
		return 1;
	}
	np = git_commit_parentcount(commit);
	if (np && !(n->parents = calloc(np, sizeof(*n->parents)))) {
		git_error_set_oom();
		error = -1;
		goto done;
	}
	for (i = 0; i < np; i++) {
		if (!(n->parents[i] = get_node(c, git_commit_parent_id(commit, i)))) {
			error = -1;
			goto done;
		}
	}
	n->nparents = np;
	n->time = git_commit_time(commit);
	git_oid_cpy(&n->tree, git_commit_tree_id(commit));
	n->flags |= PARSED;
done:
	if (error) {
		free(n->parents);
		n->parents = NULL;
	}
	git_commit_free(commit);
	return error;
}

static void free_nodes(struct check *c)
{
	const struct gg_oidmap_entry *e;
	size_t it = 0;

	while (gg_oidmap_next(&c->nodes, &it, &e)) {
		struct node *n = e->value;

		if (n)
			free(n->parents);
		free(n);
	}
	gg_oidmap_clear(&c->nodes);
}

/*
 * 0 when the tree and all it holds exist, 1 when something is missing.
 * bases: the trees at the same path in the parents (complete, or checked
 * in this run); an entry equal to one of theirs is not opened.
 */
static int check_tree(struct check *c, const git_oid *root, const git_oid *bases, size_t nbases)
{
	struct job {
		git_oid id;
		size_t base, nbases; /* in all_bases */
	} *jobs = NULL;
	size_t njobs = 0, alloc = 0, i;
	struct gg_oid_array all_bases = GG_OID_ARRAY_INIT;
	git_tree *tree = NULL, **base_trees = NULL;
	size_t nbase_trees = 0;
	int error = 0;

	for (i = 0; i < nbases; i++)
		if (git_oid_equal(root, &bases[i]))
			return 0;
	for (i = 0; i < nbases; i++)
		if (gg_oid_array_append(&all_bases, &bases[i]) < 0)
			return -1;
	if (!(jobs = malloc(sizeof(*jobs) * (alloc = 16)))) {
		git_error_set_oom();
		error = -1;
		goto done;
	}
	git_oid_cpy(&jobs[0].id, root);
	jobs[0].base = 0;
	jobs[0].nbases = nbases;
	njobs = 1;
	while (njobs) {
		struct job job = jobs[--njobs];
		size_t n, b;
		int added;

		if ((added = gg_oidset_add(&c->trees_done, &job.id)) < 0) {
			error = -1;
			goto done;
		}
		if (!added)
			continue;
		if (!exists(c, &job.id) || git_tree_lookup(&tree, c->repo, &job.id) < 0) {
			error = 1;
			goto done;
		}
		if (job.nbases && !(base_trees = calloc(job.nbases, sizeof(*base_trees)))) {
			git_error_set_oom();
			error = -1;
			goto done;
		}
		nbase_trees = job.nbases;
		for (b = 0; b < job.nbases; b++) {
			/* A base that cannot be read only means fewer entries skipped. */
			const git_oid *bid = &all_bases.ids[job.base + b];

			if (!exists(c, bid) || git_tree_lookup(&base_trees[b], c->repo, bid) < 0) {
				base_trees[b] = NULL;
				git_error_clear();
			}
		}
		n = git_tree_entrycount(tree);
		for (i = 0; i < n; i++) {
			const git_tree_entry *e = git_tree_entry_byindex(tree, i);
			const git_oid *eid = git_tree_entry_id(e);
			git_object_t type = git_tree_entry_type(e);
			size_t first = all_bases.nr, same = 0;

			if (type == GIT_OBJECT_COMMIT) /* a submodule: not ours */
				continue;
			for (b = 0; b < nbase_trees && !same; b++) {
				const git_tree_entry *be =
				    base_trees[b] ? git_tree_entry_byname(base_trees[b],
									  git_tree_entry_name(e))
						  : NULL;

				if (!be || git_tree_entry_type(be) != type)
					continue;
				if (git_oid_equal(git_tree_entry_id(be), eid))
					same = 1;
				else if (type == GIT_OBJECT_TREE &&
					 gg_oid_array_append(&all_bases, git_tree_entry_id(be)) <
					     0) {
					error = -1;
					goto done;
				}
			}
			if (same) {
				all_bases.nr = first;
				continue;
			}
			if (type != GIT_OBJECT_TREE) {
				if (!exists(c, eid)) {
					error = 1;
					goto done;
				}
				continue;
			}
			if (gg_oidmap_contains(&c->trees_done, eid)) {
				all_bases.nr = first;
				continue;
			}
			if (njobs == alloc) {
				struct job *grown = realloc(jobs, sizeof(*jobs) * alloc * 2);

				if (!grown) {
					git_error_set_oom();
					error = -1;
					goto done;
				}
				jobs = grown;
				alloc *= 2;
			}
			git_oid_cpy(&jobs[njobs].id, eid);
			jobs[njobs].base = first;
			jobs[njobs].nbases = all_bases.nr - first;
			njobs++;
		}
		for (b = 0; b < nbase_trees; b++)
			git_tree_free(base_trees[b]);
		free(base_trees);
		base_trees = NULL;
		nbase_trees = 0;
		git_tree_free(tree);
		tree = NULL;
	}
done:
	for (i = 0; i < nbase_trees; i++)
		git_tree_free(base_trees[i]);
	free(base_trees);
	git_tree_free(tree);
	free(jobs);
	gg_oid_array_clear(&all_bases);
	return error;
}

/* A commit's tree against its parents' trees. */
static int check_commit(struct check *c, struct node *n)
{
	git_oid *bases = NULL;
	unsigned int i;
	int error;

	if (n->nparents && !(bases = calloc(n->nparents, sizeof(*bases)))) {
		git_error_set_oom();
		return -1;
	}
	for (i = 0; i < n->nparents; i++) {
		/* The quick walk leaves the parents refs name unread. */
		if ((error = parse(c, n->parents[i])) != 0)
			goto done;
		git_oid_cpy(&bases[i], &n->parents[i]->tree);
	}
	error = check_tree(c, &n->tree, bases, n->nparents);
done:
	free(bases);
	return error;
}

static int add_ref_tips(struct gg_oidmap *tips, const struct gg_ref *ref)
{
	if (!ref->name)
		return 0;
	return gg_oidset_add(tips, ref->is_tag ? &ref->peeled : &ref->oid) < 0 ? -1 : 0;
}

/*
 * From the tips down through commits of this push, stopping at commits
 * refs name.  0 with c->out the commits to check, 1 when something is
 * missing, 2 when an older commit no ref names was met (the painted walk
 * must decide), -1.
 */
static int quick_walk(struct check *c, const struct gg_oidmap *tips, const git_oid *starts,
		      size_t nstarts)
{
	struct node_list stack = {0};
	size_t i;
	int error = 0;

	for (i = 0; i < nstarts && !error; i++) {
		struct node *n;

		if (gg_oidmap_contains(tips, &starts[i]))
			continue;
		if (!(n = get_node(c, &starts[i])))
			error = -1;
		else if (!is_new(c, &starts[i]))
			error = 2;
		else if (!(n->flags & VISITED)) {
			n->flags |= VISITED;
			error = list_push(&stack, n);
		}
	}
	while (!error && stack.nr) {
		struct node *n = stack.v[--stack.nr];
		unsigned int p;

		if ((error = parse(c, n)) != 0 || (error = list_push(&c->out, n)) < 0)
			break;
		for (p = 0; p < n->nparents && !error; p++) {
			struct node *parent = n->parents[p];

			if (parent->flags & VISITED || gg_oidmap_contains(tips, &parent->oid))
				continue;
			if (!exists(c, &parent->oid))
				error = 1;
			else if (!is_new(c, &parent->oid))
				error = 2;
			else {
				parent->flags |= VISITED;
				error = list_push(&stack, parent);
			}
		}
	}
	free(stack.v);
	return error;
}

/* The painted walk's queue: a heap, newest commit on top. */
static int queue_push(struct check *c, struct node *n)
{
	struct node_list *q = &c->queue;
	size_t i;

	if (list_push(q, n) < 0)
		return -1;
	n->flags |= QUEUED;
	if (!(n->flags & HIDDEN))
		c->queued_interesting++;
	for (i = q->nr - 1; i > 0 && q->v[(i - 1) / 2]->time < n->time; i = (i - 1) / 2)
		q->v[i] = q->v[(i - 1) / 2];
	q->v[i] = n;
	return 0;
}

static struct node *queue_pop(struct check *c)
{
	struct node_list *q = &c->queue;
	struct node *top = q->v[0], *last = q->v[--q->nr];
	size_t i = 0;

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= q->nr)
			break;
		if (child + 1 < q->nr && q->v[child + 1]->time > q->v[child]->time)
			child++;
		if (q->v[child]->time <= last->time)
			break;
		q->v[i] = q->v[child];
		i = child;
	}
	if (q->nr)
		q->v[i] = last;
	top->flags = (top->flags & ~QUEUED) | POPPED;
	if (!(top->flags & HIDDEN))
		c->queued_interesting--;
	return top;
}

/* n and everything below it that has been read is reached by a ref. */
static int mark_hidden(struct check *c, struct node *n)
{
	struct node_list stack = {0};
	int error = 0;

	if (n->flags & HIDDEN)
		return 0;
	if (list_push(&stack, n) < 0)
		return -1;
	n->flags |= HIDDEN;
	if (n->flags & QUEUED)
		c->queued_interesting--;
	while (stack.nr && !error) {
		struct node *m = stack.v[--stack.nr];
		unsigned int p;

		for (p = 0; p < m->nparents && !error; p++) {
			struct node *parent = m->parents[p];

			if (parent->flags & HIDDEN)
				continue;
			parent->flags |= HIDDEN;
			if (parent->flags & QUEUED)
				c->queued_interesting--;
			error = list_push(&stack, parent);
		}
	}
	free(stack.v);
	return error;
}

static int hide_ref(struct check *c, const struct gg_ref *ref)
{
	struct node *n;
	int error;

	if (!ref->name)
		return 0;
	if (!(n = get_node(c, ref->is_tag ? &ref->peeled : &ref->oid)))
		return -1;
	/* Refs to trees or blobs hide nothing, and a ref to a missing commit neither. */
	if ((error = parse(c, n)) != 0)
		return error < 0 ? error : 0;
	if ((error = mark_hidden(c, n)) < 0)
		return error;
	return n->flags & (QUEUED | POPPED) ? 0 : queue_push(c, n);
}

/*
 * Painted from the tips and from every known ref, newest first, until only
 * commits the refs reach are left: c->out gets (a superset of) the commits
 * the tips reach and no ref does.  0, 1 when something is missing, -1.
 */
static int painted_walk(struct check *c, const struct gg_ref_list *known, const git_oid *starts,
			size_t nstarts)
{
	size_t i;
	int error, slop = SLOP;

	c->out.nr = 0;
	if ((error = hide_ref(c, &known->head)) < 0)
		return error;
	for (i = 0; i < known->nr; i++)
		if ((error = hide_ref(c, &known->refs[i])) < 0)
			return error;
	for (i = 0; i < nstarts; i++) {
		struct node *n = get_node(c, &starts[i]);

		if (!n)
			return -1;
		if ((error = parse(c, n)) != 0)
			return error;
		if (!(n->flags & (QUEUED | POPPED)) && (error = queue_push(c, n)) < 0)
			return error;
	}
	while (c->queue.nr) {
		struct node *n;
		unsigned int p;

		if (c->queued_interesting)
			slop = SLOP;
		else if (slop-- == 0)
			break;
		n = queue_pop(c);
		for (p = 0; p < n->nparents; p++) {
			struct node *parent = n->parents[p];

			if ((error = parse(c, parent)) < 0)
				return error;
			/* Missing below a ref: the repository's own damage, not this push's. */
			if (error && !(n->flags & HIDDEN))
				return 1;
			if (error)
				continue;
			if (n->flags & HIDDEN && (error = mark_hidden(c, parent)) < 0)
				return error;
			if (!(parent->flags & (QUEUED | POPPED)) &&
			    (error = queue_push(c, parent)) < 0)
				return error;
		}
		if (!(n->flags & HIDDEN) && (error = list_push(&c->out, n)) < 0)
			return error;
	}
	return 0;
}

static int check_commits(struct check *c, const struct gg_ref_list *known, const git_oid *starts,
			 size_t nstarts)
{
	struct gg_oidmap tips = GG_OIDMAP_INIT;
	size_t i;
	int error = 0;

	if ((error = add_ref_tips(&tips, &known->head)) < 0)
		goto done;
	for (i = 0; i < known->nr; i++)
		if ((error = add_ref_tips(&tips, &known->refs[i])) < 0)
			goto done;
	error = quick_walk(c, &tips, starts, nstarts);
	if (error == 2)
		error = painted_walk(c, known, starts, nstarts);
	for (i = 0; i < c->out.nr && !error; i++)
		if (!(c->out.v[i]->flags & HIDDEN))
			error = check_commit(c, c->out.v[i]);
done:
	gg_oidmap_clear(&tips);
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
			error = check_tree(&c, &id, NULL, 0);
	}
	if (!error && ncommits)
		error = check_commits(&c, known, commits, ncommits);
done:
	if (error > 0)
		git_error_clear();
	free(commits);
	free_nodes(&c);
	free(c.out.v);
	free(c.queue.v);
	gg_oidmap_clear(&c.trees_done);
	git_odb_free(c.odb);
	return error;
}

int gg_check_connected(git_repository *repo, git_odb *quarantine, const struct gg_ref_list *known,
		       const git_oid *tip)
{
	return gg_check_connected_all(repo, quarantine, known, tip, 1);
}
