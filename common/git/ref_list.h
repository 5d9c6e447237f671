/*
 * ref_list.h - the refs a client may see, as every advertisement needs them.
 *
 * upload-pack v0, ls-refs (v2), receive-pack and the reachability check all
 * start from the same list: refs in byte order, symbolic refs resolved,
 * annotated tags with their peeled target, HEAD apart.  Hidden refs (the
 * caller's hide_ref callback) never enter the list, so nothing downstream
 * can leak them.
 */
#ifndef GG_GIT_REF_LIST_H
#define GG_GIT_REF_LIST_H

#include <git2.h>
#include <stdbool.h>
#include <stddef.h>

struct gg_ref {
	char *name;
	git_oid oid;	     /* what the ref resolves to */
	bool is_tag;	     /* oid is an annotated tag ... */
	git_oid peeled;	     /* ... and this is the first non-tag it points at */
	char *symref_target; /* the ref a symbolic ref points to, else NULL */
};

struct gg_ref_list {
	/* HEAD: head.name is NULL when HEAD is hidden or does not exist. */
	struct gg_ref head;
	bool head_unborn; /* HEAD names a branch that does not exist yet */
	struct gg_ref *refs;
	size_t nr;
};

#define GG_REF_LIST_INIT                                                                           \
	{                                                                                          \
		{NULL, {{0}}, false, {{0}}, NULL}, false, NULL, 0                                  \
	}

/*
 * Loads HEAD and every ref (sorted by name) of repo.  hide may be NULL.
 * The list must be released with gg_ref_list_clear.
 */
int gg_ref_list_load(struct gg_ref_list *out, git_repository *repo,
		     int (*hide)(void *ctx, const char *refname), void *ctx);
void gg_ref_list_clear(struct gg_ref_list *list);

/* The ref called name, or NULL. */
const struct gg_ref *gg_ref_list_find(const struct gg_ref_list *list, const char *name);

/* True when oid is the value or the peeled value of a listed ref or HEAD. */
bool gg_ref_list_has_tip(const struct gg_ref_list *list, const git_oid *oid);

#endif
