/*
 * oidmap.c - see oidmap.h.
 */
#include "oidmap.h"

#include <stdlib.h>
#include <string.h>

static size_t oid_hash(const git_oid *oid)
{
	size_t h;

	/* Object ids are already uniformly distributed. */
	memcpy(&h, oid->id, sizeof(h));
	return h;
}

void gg_oidmap_clear(struct gg_oidmap *map)
{
	free(map->entries);
	map->entries = NULL;
	map->cap = map->count = 0;
}

static struct gg_oidmap_entry *find_slot(struct gg_oidmap_entry *entries, size_t cap,
					 const git_oid *oid)
{
	size_t i = oid_hash(oid) & (cap - 1);

	while (entries[i].used && !git_oid_equal(&entries[i].oid, oid))
		i = (i + 1) & (cap - 1);
	return &entries[i];
}

static int grow(struct gg_oidmap *map)
{
	size_t cap = map->cap ? map->cap * 2 : 64, i;
	struct gg_oidmap_entry *entries = calloc(cap, sizeof(*entries));

	if (!entries) {
		git_error_set_oom();
		return -1;
	}
	for (i = 0; i < map->cap; i++) {
		struct gg_oidmap_entry *e = &map->entries[i];

		if (e->used)
			*find_slot(entries, cap, &e->oid) = *e;
	}
	free(map->entries);
	map->entries = entries;
	map->cap = cap;
	return 0;
}

int gg_oidmap_insert(struct gg_oidmap *map, const git_oid *oid, void ***value_out)
{
	struct gg_oidmap_entry *e;

	if ((map->count + 1) * 4 > map->cap * 3 && grow(map) < 0)
		return -1;
	e = find_slot(map->entries, map->cap, oid);
	if (value_out)
		*value_out = &e->value;
	if (e->used)
		return 0;
	e->used = true;
	git_oid_cpy(&e->oid, oid);
	e->value = NULL;
	map->count++;
	return 1;
}

void *gg_oidmap_get(const struct gg_oidmap *map, const git_oid *oid)
{
	struct gg_oidmap_entry *e;

	if (!map->cap)
		return NULL;
	e = find_slot(map->entries, map->cap, oid);
	return e->used ? e->value : NULL;
}

bool gg_oidmap_contains(const struct gg_oidmap *map, const git_oid *oid)
{
	return map->cap && find_slot(map->entries, map->cap, oid)->used;
}

int gg_oidset_add(struct gg_oidmap *set, const git_oid *oid)
{
	return gg_oidmap_insert(set, oid, NULL);
}

bool gg_oidmap_next(const struct gg_oidmap *map, size_t *iter, const struct gg_oidmap_entry **out)
{
	while (*iter < map->cap) {
		const struct gg_oidmap_entry *e = &map->entries[(*iter)++];

		if (e->used) {
			*out = e;
			return true;
		}
	}
	return false;
}

int gg_oid_array_append(struct gg_oid_array *a, const git_oid *oid)
{
	if (a->nr == a->alloc) {
		size_t alloc = a->alloc ? a->alloc * 2 : 16;
		git_oid *ids = realloc(a->ids, alloc * sizeof(*ids));

		if (!ids) {
			git_error_set_oom();
			return -1;
		}
		a->ids = ids;
		a->alloc = alloc;
	}
	git_oid_cpy(&a->ids[a->nr++], oid);
	return 0;
}

bool gg_oid_array_contains(const struct gg_oid_array *a, const git_oid *oid)
{
	size_t i;

	for (i = 0; i < a->nr; i++)
		if (git_oid_equal(&a->ids[i], oid))
			return true;
	return false;
}

void gg_oid_array_clear(struct gg_oid_array *a)
{
	free(a->ids);
	a->ids = NULL;
	a->nr = a->alloc = 0;
}
