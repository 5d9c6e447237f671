/*
 * ref_list.c - see ref_list.h.
 */
#include "ref_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The packed refs that packed-refs shows are not annotated tags, so that
 * listing refs need not look each one up in the object database (which, for
 * a repository of many refs, reads much of the pack index).  git writes
 * packed-refs with the trait "fully-peeled": every entry that peels to
 * something else is followed by a "^<id>" line, so an entry without one is
 * not a tag; with only "peeled", that holds for refs/tags/ entries.  As in
 * git, the knowledge is used for a ref whose name and id are those of the
 * packed entry (not for a loose ref that overrides it).  libgit2 keeps this
 * private; a missing or unreadable file only means the lookups are done.
 */
struct packed_nontag {
	char *name;
	git_oid oid;
};

struct packed_nontags {
	struct packed_nontag *v;
	size_t nr, alloc;
};

static int add_nontag(struct packed_nontags *set, const git_oid *oid, const char *name, size_t len)
{
	if (set->nr == set->alloc) {
		size_t n = set->alloc ? 2 * set->alloc : 64;
		struct packed_nontag *v = realloc(set->v, n * sizeof(*v));

		if (!v)
			return -1;
		set->v = v;
		set->alloc = n;
	}
	if (!(set->v[set->nr].name = strndup(name, len)))
		return -1;
	git_oid_cpy(&set->v[set->nr].oid, oid);
	set->nr++;
	return 0;
}

static int compare_nontags(const void *a, const void *b)
{
	return strcmp(((const struct packed_nontag *)a)->name,
		      ((const struct packed_nontag *)b)->name);
}

static void clear_nontags(struct packed_nontags *set)
{
	for (size_t i = 0; i < set->nr; i++)
		free(set->v[i].name);
	free(set->v);
	memset(set, 0, sizeof(*set));
}

static void load_packed_nontags(struct packed_nontags *set, git_repository *repo)
{
	const char *dir = git_repository_commondir(repo);
	char *path = NULL, *line = NULL, *pending = NULL;
	size_t cap = 0, len = strlen(dir), pending_len = 0;
	bool fully = false, peeled = false, first = true, failed = false;
	git_oid pending_oid;
	ssize_t n;
	FILE *f;

	if (!(path = malloc(len + sizeof("/packed-refs"))))
		return;
	memcpy(path, dir, len);
	strcpy(path + len, len && dir[len - 1] == '/' ? "packed-refs" : "/packed-refs");
	f = fopen(path, "re");
	free(path);
	if (!f)
		return;
	while (!failed && (n = getline(&line, &cap, f)) > 0) {
		if (first) {
			first = false;
			if (strncmp(line, "# pack-refs with:", 17) == 0) {
				fully = strstr(line, " fully-peeled") != NULL;
				peeled = strstr(line, " peeled") != NULL;
				continue;
			}
		}
		if (!fully && !peeled)
			break;
		if (line[0] == '^') { /* the previous entry peels: a tag */
			free(pending);
			pending = NULL;
			continue;
		}
		if (pending && add_nontag(set, &pending_oid, pending, pending_len) < 0)
			failed = true;
		free(pending);
		pending = NULL;
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if ((size_t)n > GIT_OID_HEXSZ + 1 && line[GIT_OID_HEXSZ] == ' ' &&
		    git_oid_fromstrn(&pending_oid, line, GIT_OID_HEXSZ) == 0 &&
		    (fully || strncmp(line + GIT_OID_HEXSZ + 1, "refs/tags/", 10) == 0)) {
			pending_len = (size_t)n - GIT_OID_HEXSZ - 1;
			if (!(pending = strndup(line + GIT_OID_HEXSZ + 1, pending_len)))
				failed = true;
		}
	}
	if (ferror(f))
		failed = true;
	if (pending && !failed && add_nontag(set, &pending_oid, pending, pending_len) < 0)
		failed = true;
	free(pending);
	free(line);
	fclose(f);
	if (failed)
		clear_nontags(set);
	else if (set->nr)
		qsort(set->v, set->nr, sizeof(*set->v), compare_nontags);
}

/* True when packed-refs says the ref name, at oid, is not an annotated tag. */
static bool packed_nontag(const struct packed_nontags *set, const char *name, const git_oid *oid)
{
	struct packed_nontag key = {(char *)name, {{0}}};
	const struct packed_nontag *e;

	if (!set->nr || !name)
		return false;
	e = bsearch(&key, set->v, set->nr, sizeof(*set->v), compare_nontags);
	return e && git_oid_equal(&e->oid, oid);
}

static void ref_clear(struct gg_ref *ref)
{
	free(ref->name);
	free(ref->symref_target);
	memset(ref, 0, sizeof(*ref));
}

/* Fills is_tag / peeled for ref->oid. */
static int peel_ref(struct gg_ref *ref, git_repository *repo, git_odb *odb,
		    const git_reference *resolved, const struct packed_nontags *nontags)
{
	const git_oid *cached = git_reference_target_peel(resolved);
	git_object *obj = NULL, *peeled = NULL;
	git_object_t type;
	size_t size;
	int error;

	ref->is_tag = false;
	if (cached) {
		ref->is_tag = true;
		git_oid_cpy(&ref->peeled, cached);
		return 0;
	}
	if (packed_nontag(nontags, git_reference_name(resolved), &ref->oid))
		return 0;
	if ((error = git_odb_read_header(&size, &type, odb, &ref->oid)) < 0)
		return error;
	if (type != GIT_OBJECT_TAG)
		return 0;
	if ((error = git_object_lookup(&obj, repo, &ref->oid, GIT_OBJECT_TAG)) < 0 ||
	    (error = git_object_peel(&peeled, obj, GIT_OBJECT_ANY)) < 0)
		goto done;
	/* git_object_peel on a tag with GIT_OBJECT_ANY stops at the first non-tag. */
	while (git_object_type(peeled) == GIT_OBJECT_TAG) {
		git_object *next = NULL;

		if ((error = git_object_peel(&next, peeled, GIT_OBJECT_ANY)) < 0)
			goto done;
		git_object_free(peeled);
		peeled = next;
	}
	ref->is_tag = true;
	git_oid_cpy(&ref->peeled, git_object_id(peeled));
done:
	git_object_free(peeled);
	git_object_free(obj);
	return error;
}

/*
 * Fills ref from a reference.  Returns 1 when the ref should be skipped
 * (a dangling symbolic ref), 0 when filled, negative on error.
 */
static int fill_ref(struct gg_ref *ref, git_repository *repo, git_odb *odb, git_reference *r,
		    const struct packed_nontags *nontags)
{
	git_reference *resolved = NULL;
	int error;

	memset(ref, 0, sizeof(*ref));
	if (git_reference_type(r) == GIT_REFERENCE_SYMBOLIC) {
		error = git_reference_resolve(&resolved, r);
		if (error == GIT_ENOTFOUND) {
			git_error_clear();
			return 1;
		}
		if (error < 0)
			return error;
		if (!(ref->symref_target = strdup(git_reference_symbolic_target(r))))
			goto oom;
	} else if ((error = git_reference_dup(&resolved, r)) < 0) {
		return error;
	}
	if (!(ref->name = strdup(git_reference_name(r))))
		goto oom;
	git_oid_cpy(&ref->oid, git_reference_target(resolved));
	error = peel_ref(ref, repo, odb, resolved, nontags);
	if (error == GIT_ENOTFOUND) {
		/* A ref to a missing object: nothing could be sent for it anyway. */
		git_error_clear();
		ref_clear(ref);
		error = 1;
	}
	git_reference_free(resolved);
	if (error < 0)
		ref_clear(ref);
	return error;
oom:
	git_reference_free(resolved);
	ref_clear(ref);
	git_error_set_oom();
	return -1;
}

static int compare_refs(const void *a, const void *b)
{
	return strcmp(((const struct gg_ref *)a)->name, ((const struct gg_ref *)b)->name);
}

static int load_head(struct gg_ref_list *list, git_repository *repo, git_odb *odb,
		     const struct packed_nontags *nontags,
		     int (*hide)(void *ctx, const char *refname), void *ctx)
{
	git_reference *head = NULL;
	int error;

	if (hide && hide(ctx, "HEAD"))
		return 0;
	error = git_reference_lookup(&head, repo, "HEAD");
	if (error == GIT_ENOTFOUND) {
		git_error_clear();
		return 0;
	}
	if (error < 0)
		return error;
	if (git_reference_type(head) == GIT_REFERENCE_SYMBOLIC && hide &&
	    hide(ctx, git_reference_symbolic_target(head)))
		goto done;
	error = fill_ref(&list->head, repo, odb, head, nontags);
	if (error == 1) {
		/* Unborn: remember where it points, for ls-refs "unborn". */
		error = 0;
		list->head_unborn = git_reference_type(head) == GIT_REFERENCE_SYMBOLIC;
		if (list->head_unborn &&
		    !(list->head.symref_target = strdup(git_reference_symbolic_target(head)))) {
			git_error_set_oom();
			error = -1;
		}
	}
done:
	git_reference_free(head);
	return error;
}

int gg_ref_list_load(struct gg_ref_list *out, git_repository *repo,
		     int (*hide)(void *ctx, const char *refname), void *ctx)
{
	struct gg_ref_list list = GG_REF_LIST_INIT;
	struct packed_nontags nontags = {NULL, 0, 0};
	git_reference_iterator *it = NULL;
	git_reference *r = NULL;
	git_odb *odb = NULL;
	size_t alloc = 0;
	int error;

	load_packed_nontags(&nontags, repo);
	if ((error = git_repository_odb(&odb, repo)) < 0 ||
	    (error = load_head(&list, repo, odb, &nontags, hide, ctx)) < 0 ||
	    (error = git_reference_iterator_new(&it, repo)) < 0)
		goto done;
	while ((error = git_reference_next(&r, it)) == 0) {
		if (!hide || !hide(ctx, git_reference_name(r))) {
			if (list.nr == alloc) {
				size_t n = alloc ? alloc * 2 : 64;
				struct gg_ref *refs = realloc(list.refs, n * sizeof(*refs));

				if (!refs) {
					git_error_set_oom();
					error = -1;
					goto done;
				}
				list.refs = refs;
				alloc = n;
			}
			error = fill_ref(&list.refs[list.nr], repo, odb, r, &nontags);
			if (error < 0)
				goto done;
			if (error == 0)
				list.nr++;
		}
		git_reference_free(r);
		r = NULL;
	}
	if (error != GIT_ITEROVER)
		goto done;
	git_error_clear();
	error = 0;
	if (list.nr)
		qsort(list.refs, list.nr, sizeof(*list.refs), compare_refs);
	*out = list;
	memset(&list, 0, sizeof(list));
done:
	git_reference_free(r);
	git_reference_iterator_free(it);
	git_odb_free(odb);
	clear_nontags(&nontags);
	gg_ref_list_clear(&list);
	return error;
}

void gg_ref_list_clear(struct gg_ref_list *list)
{
	size_t i;

	ref_clear(&list->head);
	for (i = 0; i < list->nr; i++)
		ref_clear(&list->refs[i]);
	free(list->refs);
	list->refs = NULL;
	list->nr = 0;
	list->head_unborn = false;
}

const struct gg_ref *gg_ref_list_find(const struct gg_ref_list *list, const char *name)
{
	size_t lo = 0, hi = list->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(list->refs[mid].name, name);

		if (c == 0)
			return &list->refs[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool ref_has_tip(const struct gg_ref *ref, const git_oid *oid)
{
	return ref->name &&
	       (git_oid_equal(&ref->oid, oid) || (ref->is_tag && git_oid_equal(&ref->peeled, oid)));
}

bool gg_ref_list_has_tip(const struct gg_ref_list *list, const git_oid *oid)
{
	size_t i;

	if (ref_has_tip(&list->head, oid))
		return true;
	for (i = 0; i < list->nr; i++)
		if (ref_has_tip(&list->refs[i], oid))
			return true;
	return false;
}
