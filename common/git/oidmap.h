/*
 * oidmap.h - a hash map from object id to a pointer-sized value.
 *
 * Walking a repository's history marks thousands of objects (seen, wanted,
 * common, shallow...); libgit2 keeps its own maps private, so the walkers
 * here use this one.  Open addressing, linear probing, no deletion: maps
 * live for one request and are cleared as a whole.
 */
#ifndef GG_GIT_OIDMAP_H
#define GG_GIT_OIDMAP_H

#include <git2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gg_oidmap_entry {
	git_oid oid;
	void *value;
	bool used;
};

struct gg_oidmap {
	struct gg_oidmap_entry *entries;
	size_t cap; /* a power of two, or 0 */
	size_t count;
};

#define GG_OIDMAP_INIT                                                                             \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void gg_oidmap_clear(struct gg_oidmap *map);

/*
 * Finds or inserts oid.  *value_out points at the value slot (NULL for a
 * new entry) and stays valid until the next insertion.  Returns 1 when the
 * entry is new, 0 when it existed, -1 when out of memory.
 */
int gg_oidmap_insert(struct gg_oidmap *map, const git_oid *oid, void ***value_out);

/* Value for oid, or NULL when absent (a stored NULL also reads as NULL). */
void *gg_oidmap_get(const struct gg_oidmap *map, const git_oid *oid);
bool gg_oidmap_contains(const struct gg_oidmap *map, const git_oid *oid);

/* Set semantics: returns 1 if oid was added, 0 if present, -1 when out of memory. */
int gg_oidset_add(struct gg_oidmap *set, const git_oid *oid);

/* Iteration: for (i = 0; gg_oidmap_next(map, &i, &e); ) ... */
bool gg_oidmap_next(const struct gg_oidmap *map, size_t *iter, const struct gg_oidmap_entry **out);

/* A growable array of object ids, for want/have/shallow lists. */
struct gg_oid_array {
	git_oid *ids;
	size_t nr, alloc;
};

#define GG_OID_ARRAY_INIT                                                                          \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

int gg_oid_array_append(struct gg_oid_array *a, const git_oid *oid);
bool gg_oid_array_contains(const struct gg_oid_array *a, const git_oid *oid);
void gg_oid_array_clear(struct gg_oid_array *a);

#endif
