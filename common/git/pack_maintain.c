/*
 * pack_maintain.c - writing pack records (pack_reuse.h): the audit of a
 * pack against the objects reachable from the refs, the full repack, and
 * the background run after a push.
 *
 * A record is written only for a pack that holds exactly the closure of the
 * tips it lists: none unreachable, none missing.  After a full repack the
 * older packs whose objects are all in the new one are deleted (redundant:
 * no object leaves the repository), and every run removes the records whose
 * pack is gone.  The lock file keeps one run per repository.
 */
#include "pack_reuse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "object_walk.h"
#include "pack_record.h"
#include "reachable.h"
#include "ref_list.h"

#define LOCK_NAME     "maintain.lock"
#define MIN_UNCOVERED 1000 /* objects a fetch may build itself before a repack */

struct maintain {
	git_repository *repo;
	char *dir, *rec_dir;
	struct gg_oid_array tips;
	struct gg_oidmap reachable;
	git_packbuilder *pb;
	int64_t expire; /* seconds: how old what no ref reaches must be to be deleted */
};

/* True when the file at path was last written expire seconds ago or more. */
static bool expired(const struct maintain *m, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return false;
	return (int64_t)time(NULL) - (int64_t)st.st_mtime >= m->expire;
}

static int collect_reachable(void *ctx, const git_oid *oid, git_object_t type, const char *name)
{
	struct maintain *m = ctx;

	(void)type;
	(void)name;
	return gg_oidset_add(&m->reachable, oid) < 0 ? -1 : 0;
}

static int insert_packbuilder(void *ctx, const git_oid *oid, git_object_t type, const char *name)
{
	struct maintain *m = ctx;

	(void)type;
	return git_packbuilder_insert(m->pb, oid, name);
}

static int walk_tips(struct maintain *m, gg_walk_add_cb add)
{
	struct gg_walk_request req;

	memset(&req, 0, sizeof(req));
	req.repo = m->repo;
	req.wants = &m->tips;
	return gg_object_walk(&req, add, NULL, m);
}

static int load_tips(struct maintain *m)
{
	struct gg_ref_list refs = GG_REF_LIST_INIT;
	size_t i;
	int error;

	if ((error = gg_ref_list_load(&refs, m->repo, NULL, NULL)) < 0)
		return error;
	for (i = 0; i < refs.nr && !error; i++)
		if (!gg_oid_array_contains(&m->tips, &refs.refs[i].oid))
			error = gg_oid_array_append(&m->tips, &refs.refs[i].oid);
	if (!error && refs.head.name && !gg_oid_array_contains(&m->tips, &refs.head.oid))
		error = gg_oid_array_append(&m->tips, &refs.head.oid);
	gg_ref_list_clear(&refs);
	return error;
}

/* Writes the record of pack base ("pack-<sha>") for m->tips: temp file, then rename. */
static int write_record(struct maintain *m, const struct gg_pack_index *idx, const char *base)
{
	char *path = gg_pack_path_join(m->rec_dir, base, GG_PACK_RECORD_SUFFIX), *tmp = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	FILE *f = NULL;
	size_t i;
	int error = -1;

	if (!path || !(tmp = gg_pack_path_join(m->rec_dir, base, GG_PACK_RECORD_SUFFIX ".tmp")))
		goto done;
	/* The pack must hold the closure of the tips, so the tips at least (pack_reuse.c). */
	for (i = 0; i < m->tips.nr; i++) {
		if (!gg_pack_index_contains(idx, &m->tips.ids[i])) {
			git_oid_tostr(hex, sizeof(hex), &m->tips.ids[i]);
			git_error_set(GIT_ERROR_INVALID, "%s lacks tip %s: not recorded", base,
				      hex);
			goto done;
		}
	}
	if (!(f = fopen(tmp, "we"))) {
		git_error_set(GIT_ERROR_OS, "cannot write '%s': %s", tmp, strerror(errno));
		goto done;
	}
	git_oid_tostr(hex, sizeof(hex), &idx->checksum);
	fprintf(f, "%s\npack %s\nobjects %u\n", GG_PACK_RECORD_MAGIC, hex, idx->nr);
	for (i = 0; i < m->tips.nr; i++) {
		git_oid_tostr(hex, sizeof(hex), &m->tips.ids[i]);
		fprintf(f, "tip %s\n", hex);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		git_error_set(GIT_ERROR_OS, "cannot write '%s': %s", tmp, strerror(errno));
		goto done;
	}
	if (fclose(f) != 0) {
		f = NULL;
		git_error_set(GIT_ERROR_OS, "cannot write '%s': %s", tmp, strerror(errno));
		goto done;
	}
	f = NULL;
	if (rename(tmp, path) < 0) {
		git_error_set(GIT_ERROR_OS, "cannot rename '%s': %s", tmp, strerror(errno));
		goto done;
	}
	error = 0;
done:
	if (f)
		fclose(f);
	if (error < 0 && tmp)
		unlink(tmp);
	free(tmp);
	free(path);
	return error;
}

/*
 * Records pack base if it holds exactly the objects reachable from the refs:
 * none unreachable (the secret rule) and none missing (a fetch that reuses
 * it lists only what lies beyond the recorded tips).  1 recorded, 0 not, -1
 * error.
 */
static int audit_pack(struct maintain *m, const char *base, uint32_t *nr)
{
	struct gg_pack_index idx;
	char *idx_path = gg_pack_path_join(m->dir, base, ".idx");
	uint32_t i;
	git_oid oid;
	int error = 0;

	*nr = 0;
	if (!idx_path)
		return -1;
	if (gg_pack_index_open(&idx, idx_path) < 0) {
		gg_warn("pack audit: %s", git_error_last() ? git_error_last()->message : base);
		git_error_clear();
		free(idx_path);
		return 0;
	}
	free(idx_path);
	for (i = 0; i < idx.nr; i++) {
		gg_pack_index_oid(&oid, &idx, i);
		if (!gg_oidmap_contains(&m->reachable, &oid))
			break;
	}
	if (i == idx.nr && idx.nr != m->reachable.count) {
		gg_info("pack audit: %s holds %u of the %zu reachable objects: not recorded", base,
			idx.nr, m->reachable.count);
	} else if (i == idx.nr) {
		if ((error = write_record(m, &idx, base)) == 0)
			error = 1;
		*nr = idx.nr;
	} else {
		char hex[GIT_OID_HEXSZ + 1];

		git_oid_tostr(hex, sizeof(hex), &oid);
		gg_info("pack audit: %s holds %s, unreachable from the refs: not recorded", base,
			hex);
	}
	gg_pack_index_close(&idx);
	return error;
}

static bool tips_reachable(const struct maintain *m, const struct gg_reuse_pack *p)
{
	size_t i;

	for (i = 0; i < p->tips.nr; i++)
		if (!gg_oidmap_contains(&m->reachable, &p->tips.ids[i]))
			return false;
	return true;
}

static bool covered_enough(size_t reachable, size_t covered)
{
	size_t slack = reachable / 10 > MIN_UNCOVERED ? reachable / 10 : MIN_UNCOVERED;

	return covered + slack >= reachable;
}

static void set_best(struct gg_pack_maintain_result *r, const char *base, size_t nr)
{
	if (nr < r->covered && r->pack_name[0])
		return;
	r->covered = nr;
	snprintf(r->pack_name, sizeof(r->pack_name), "%s", base);
}

/* "pack-<sha>" of a record's index path. */
static void record_name(char *out, size_t len, const struct gg_reuse_pack *p)
{
	const char *base = strrchr(p->idx.idx_path, '/') + 1;

	snprintf(out, len, "%.*s", (int)(strlen(base) - 4), base);
}

/*
 * The cheap check after a push: when a recorded pack's tips are still
 * reachable from the refs and all other packs together hold little, there
 * is nothing to do and the reachable set need not be computed.  1 when
 * nothing is to be done.
 */
static int quick_check(struct maintain *m, struct gg_pack_maintain_result *r)
{
	struct gg_reuse_pack *records = NULL;
	struct gg_ref_list refs;
	struct gg_pack_index idx;
	size_t nrecords = 0, nnames = 0, others = 0, i;
	char **names = NULL, *path, name[64];
	git_oid refused;
	int error, best = -1;

	memset(&refs, 0, sizeof(refs));
	if ((error = gg_pack_records_load(&records, &nrecords, m->repo)) < 0)
		return error;
	if (nrecords && (error = gg_pack_wants_as_refs(&refs, m->repo, &m->tips)) < 0)
		goto done;
	for (i = 0; i < nrecords && best < 0; i++) {
		if ((error = gg_check_wants(&refused, m->repo, &refs, &records[i].tips)) < 0)
			goto done;
		if (error == 0)
			best = (int)i;
	}
	error = 0;
	if (best < 0)
		goto done;
	record_name(name, sizeof(name), &records[best]);
	if ((error = gg_pack_list(&names, &nnames, m->dir, ".idx")) < 0)
		goto done;
	for (i = 0; i < nnames; i++) {
		if (!strcmp(names[i], name))
			continue;
		if (!(path = gg_pack_path_join(m->dir, names[i], ".idx"))) {
			error = -1;
			goto done;
		}
		if (gg_pack_index_open(&idx, path) == 0) {
			others += idx.nr;
			gg_pack_index_close(&idx);
		} else {
			git_error_clear();
		}
		free(path);
	}
	if (covered_enough(records[best].idx.nr + others, records[best].idx.nr)) {
		set_best(r, name, records[best].idx.nr);
		error = 1;
	}
done:
	for (i = 0; i < nrecords; i++)
		gg_reuse_pack_clear(&records[i]);
	free(records);
	free(refs.refs);
	gg_pack_names_free(names, nnames);
	return error;
}

/* True when dir/name+suffix exists (an error other than ENOENT counts as existing). */
static bool file_exists(const char *dir, const char *name, const char *suffix, int *error)
{
	char *path = gg_pack_path_join(dir, name, suffix);
	bool exists;

	if (!path) {
		*error = -1;
		return true;
	}
	exists = access(path, F_OK) == 0 || errno != ENOENT;
	free(path);
	return exists;
}

/* Removes the records whose pack or index is gone (git gc): the fetch ignores them already. */
static int remove_stale_records(struct maintain *m, struct gg_pack_maintain_result *r)
{
	char **names = NULL, *rec;
	size_t nnames = 0, i;
	int error;

	if ((error = gg_pack_list(&names, &nnames, m->rec_dir, GG_PACK_RECORD_SUFFIX)) < 0)
		return error;
	for (i = 0; i < nnames && !error; i++) {
		if (file_exists(m->dir, names[i], ".pack", &error) &&
		    file_exists(m->dir, names[i], ".idx", &error))
			continue;
		if (error < 0 ||
		    !(rec = gg_pack_path_join(m->rec_dir, names[i], GG_PACK_RECORD_SUFFIX))) {
			error = -1;
			break;
		}
		if (unlink(rec) == 0) {
			r->stale_records++;
			gg_info("pack maintenance: removed the record of %s, whose pack is gone",
				names[i]);
		} else if (errno != ENOENT) {
			gg_warn("pack maintenance: cannot remove '%s': %s", rec, strerror(errno));
		}
		free(rec);
	}
	gg_pack_names_free(names, nnames);
	return error;
}

/* fsync of path (a file or a directory).  0 or -1. */
static int sync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), error = 0;

	if (fd < 0 || fsync(fd) < 0) {
		git_error_set(GIT_ERROR_OS, "cannot sync '%s': %s", path, strerror(errno));
		error = -1;
	}
	if (fd >= 0)
		close(fd);
	return error;
}

/* The files of a pack, the index first: readers find a pack by its index. */
static const char *const pack_files[] = {".idx", ".pack", ".rev", ".bitmap", ".mtimes"};

/* Deletes pack base with its companions and its record; adds the bytes freed to *bytes. */
static int delete_pack(struct maintain *m, const char *base, unsigned long long *bytes)
{
	char *path;
	struct stat st;
	size_t i;

	/* The record first, so that no new fetch picks the pack. */
	if (!(path = gg_pack_path_join(m->rec_dir, base, GG_PACK_RECORD_SUFFIX)))
		return -1;
	if (unlink(path) < 0 && errno != ENOENT)
		gg_warn("pack maintenance: cannot remove '%s': %s", path, strerror(errno));
	free(path);
	for (i = 0; i < sizeof(pack_files) / sizeof(*pack_files); i++) {
		if (!(path = gg_pack_path_join(m->dir, base, pack_files[i])))
			return -1;
		if (stat(path, &st) == 0) {
			if (unlink(path) == 0)
				*bytes += (unsigned long long)st.st_size;
			else if (errno != ENOENT)
				gg_warn("pack maintenance: cannot remove '%s': %s", path,
					strerror(errno));
		}
		free(path);
	}
	return 0;
}

/*
 * After a full repack into new_base: deletes every other pack whose objects
 * are all in the new pack.  Packs holding anything else (objects no ref
 * reaches: a force-pushed-away commit, or a push whose refs are not updated
 * yet) are kept, as are packs with a .keep or .promisor file.
 */
static int prune_redundant(struct maintain *m, struct gg_pack_maintain_result *r,
			   const struct gg_pack_index *fresh, const char *new_base)
{
	struct gg_pack_index old;
	char **names = NULL, *path;
	size_t nnames = 0, i;
	uint32_t k;
	git_oid oid;
	int error;

	/* The new pack must be on disk for good before anything it replaces goes. */
	if (sync_path(fresh->pack_path) < 0 || sync_path(fresh->idx_path) < 0 ||
	    sync_path(m->dir) < 0)
		return -1;
	if ((error = gg_pack_list(&names, &nnames, m->dir, ".idx")) < 0)
		return error;
	for (i = 0; i < nnames && !error; i++) {
		if (!strcmp(names[i], new_base))
			continue;
		if (file_exists(m->dir, names[i], ".keep", &error) ||
		    file_exists(m->dir, names[i], ".promisor", &error)) {
			if (!error) {
				r->kept_keep++;
				gg_info("pack maintenance: %s kept: it has a .keep file", names[i]);
			}
			continue;
		}
		if (!(path = gg_pack_path_join(m->dir, names[i], ".idx"))) {
			error = -1;
			break;
		}
		if (gg_pack_index_open(&old, path) < 0) {
			/* Being written, or damaged: not ours to judge. */
			gg_warn("pack maintenance: %s kept: %s", names[i],
				git_error_last() ? git_error_last()->message : "unreadable");
			git_error_clear();
			free(path);
			continue;
		}
		free(path);
		for (k = 0; k < old.nr; k++) {
			gg_pack_index_oid(&oid, &old, k);
			if (!gg_pack_index_contains(fresh, &oid))
				break;
		}
		if (k < old.nr) {
			char hex[GIT_OID_HEXSZ + 1];
			unsigned long long before = r->expired_bytes;

			git_oid_tostr(hex, sizeof(hex), &oid);
			if (!(path = gg_pack_path_join(m->dir, names[i], ".pack"))) {
				error = -1;
			} else if (!expired(m, path)) {
				r->kept_unreachable++;
				gg_info("pack maintenance: %s kept: it holds %s, which no ref "
					"reaches",
					names[i], hex);
			} else if ((error = delete_pack(m, names[i], &r->expired_bytes)) == 0) {
				r->expired++;
				gg_info("pack maintenance: %s deleted (%llu bytes): it holds %s "
					"and other objects no ref reaches, older than %lld s",
					names[i], r->expired_bytes - before, hex,
					(long long)m->expire);
			}
			free(path);
		} else {
			unsigned long long before = r->pruned_bytes;

			if ((error = delete_pack(m, names[i], &r->pruned_bytes)) == 0) {
				r->pruned++;
				gg_info("pack maintenance: %s deleted (%llu bytes): its %u "
					"objects are in %s",
					names[i], r->pruned_bytes - before, old.nr, new_base);
			}
		}
		gg_pack_index_close(&old);
	}
	/* A multi-pack index (stock git) may name deleted packs: git reads the packs without. */
	if (!error && (r->pruned || r->expired)) {
		if (!(path = gg_pack_path_join(m->dir, "multi-pack-index", "")))
			error = -1;
		else if (unlink(path) == 0)
			gg_info("pack maintenance: multi-pack-index removed");
		free(path);
	}
	gg_pack_names_free(names, nnames);
	return error;
}

/* Loose object dir/name ("objects/ab", 38 hex digits) as an id; -1 when not one. */
static int loose_oid(git_oid *out, const char *dir, const char *name)
{
	char hex[GIT_OID_HEXSZ + 1];

	if (strlen(name) != GIT_OID_HEXSZ - 2)
		return -1;
	memcpy(hex, dir, 2);
	memcpy(hex + 2, name, GIT_OID_HEXSZ - 2);
	hex[GIT_OID_HEXSZ] = '\0';
	return git_oid_fromstr(out, hex);
}

/*
 * After a full repack into fresh: removes the loose objects that are in it
 * (git prune-packed) and those no ref reaches that are older than the
 * expiry (git prune); younger ones may be a push in flight.
 */
static int prune_loose(struct maintain *m, struct gg_pack_maintain_result *r,
		       const struct gg_pack_index *fresh)
{
	char *objects = gg_pack_repo_dir(m->repo, "objects"), *sub, *path;
	char two[3];
	struct dirent *e;
	git_oid oid;
	DIR *d;

	if (!objects)
		return -1;
	for (int i = 0; i < 256; i++) {
		snprintf(two, sizeof(two), "%02x", i);
		if (!(sub = gg_pack_path_join(objects, two, "")))
			break;
		if (!(d = opendir(sub))) {
			free(sub);
			continue;
		}
		while ((e = readdir(d))) {
			bool packed;

			if (loose_oid(&oid, two, e->d_name) < 0) {
				git_error_clear();
				continue;
			}
			packed = gg_pack_index_contains(fresh, &oid);
			if (!(path = gg_pack_path_join(sub, e->d_name, "")))
				break;
			if ((packed || expired(m, path)) && unlink(path) == 0) {
				if (packed)
					r->loose_packed++;
				else
					r->loose_expired++;
			}
			free(path);
		}
		closedir(d);
		rmdir(sub); /* when empty, as git prune leaves it */
		free(sub);
	}
	free(objects);
	if (r->loose_packed || r->loose_expired)
		gg_info("pack maintenance: %u loose objects removed (in the new pack), %u removed "
			"(no ref reaches them, older than %lld s)",
			r->loose_packed, r->loose_expired, (long long)m->expire);
	return 0;
}

static int repack(struct maintain *m, struct gg_pack_maintain_result *r)
{
	struct gg_pack_index idx;
	char base[64], *idx_path = NULL;
	int error;

	if ((error = git_packbuilder_new(&m->pb, m->repo)) < 0)
		return error;
	git_packbuilder_set_threads(m->pb, 0);
	if ((error = walk_tips(m, insert_packbuilder)) != 0 ||
	    (error = git_packbuilder_write(m->pb, m->dir, 0, NULL, NULL)) < 0)
		goto done;
	snprintf(base, sizeof(base), "pack-%s", git_packbuilder_name(m->pb));
	if (!(idx_path = gg_pack_path_join(m->dir, base, ".idx"))) {
		error = -1;
		goto done;
	}
	if ((error = gg_pack_index_open(&idx, idx_path)) < 0)
		goto done;
	error = write_record(m, &idx, base);
	if (!error) {
		r->repacked = true;
		r->covered = 0;
		set_best(r, base, idx.nr);
		error = prune_redundant(m, r, &idx, base);
		if (!error)
			error = prune_loose(m, r, &idx);
	}
	gg_pack_index_close(&idx);
done:
	free(idx_path);
	git_packbuilder_free(m->pb);
	m->pb = NULL;
	return error;
}

int gg_pack_maintain(struct gg_pack_maintain_result *result, git_repository *repo, unsigned flags)
{
	return gg_pack_maintain_expire(result, repo, flags, GG_PACK_EXPIRE_DEFAULT);
}

int gg_pack_maintain_expire(struct gg_pack_maintain_result *result, git_repository *repo,
			    unsigned flags, int64_t expire)
{
	struct maintain m;
	struct gg_reuse_pack *records = NULL;
	size_t nrecords = 0, nnames = 0, i;
	char **names = NULL, *lock_path = NULL;
	int lock_fd = -1, error = -1;

	memset(result, 0, sizeof(*result));
	memset(&m, 0, sizeof(m));
	m.repo = repo;
	m.expire = expire;
	if (!(m.dir = gg_pack_repo_dir(repo, "objects/pack")) ||
	    !(m.rec_dir = gg_pack_repo_dir(repo, GG_PACK_RECORD_DIR)))
		goto done;
	if (mkdir(m.rec_dir, 0755) < 0 && errno != EEXIST) {
		git_error_set(GIT_ERROR_OS, "cannot create '%s': %s", m.rec_dir, strerror(errno));
		goto done;
	}
	if (!(lock_path = gg_pack_path_join(m.rec_dir, LOCK_NAME, "")))
		goto done;
	if ((lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		git_error_set(GIT_ERROR_OS, "cannot open '%s': %s", lock_path, strerror(errno));
		goto done;
	}
	if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			git_error_set(GIT_ERROR_OS, "cannot lock '%s': %s", lock_path,
				      strerror(errno));
			goto done;
		}
		result->busy = true;
		error = 0;
		goto done;
	}
	if ((error = remove_stale_records(&m, result)) < 0 || (error = load_tips(&m)) < 0)
		goto done;
	if (!m.tips.nr) {
		error = 0; /* an empty repository: nothing to record */
		goto done;
	}
	if (!(flags & GG_PACK_MAINTAIN_REPACK) && (error = quick_check(&m, result)) != 0) {
		if (error > 0)
			error = 0;
		goto done;
	}
	if ((error = walk_tips(&m, collect_reachable)) != 0)
		goto done;
	result->walked = true;
	result->reachable = m.reachable.count;
	if ((error = gg_pack_records_load(&records, &nrecords, repo)) < 0)
		goto done;
	for (i = 0; i < nrecords; i++) {
		if (tips_reachable(&m, &records[i])) {
			char name[64];

			record_name(name, sizeof(name), &records[i]);
			set_best(result, name, records[i].idx.nr);
			break;
		}
	}
	if ((!result->pack_name[0] || !covered_enough(result->reachable, result->covered)) &&
	    !(flags & GG_PACK_MAINTAIN_REPACK)) {
		if ((error = gg_pack_list(&names, &nnames, m.dir, ".idx")) < 0)
			goto done;
		for (i = 0; i < nnames; i++) {
			char *rec = gg_pack_path_join(m.rec_dir, names[i], GG_PACK_RECORD_SUFFIX);
			uint32_t nr;
			bool has_record;

			if (!rec) {
				error = -1;
				goto done;
			}
			has_record = access(rec, F_OK) == 0;
			free(rec);
			if (has_record)
				continue;
			if ((error = audit_pack(&m, names[i], &nr)) < 0)
				goto done;
			if (error == 1) {
				result->audited++;
				set_best(result, names[i], nr);
			}
		}
	}
	if ((flags & GG_PACK_MAINTAIN_REPACK) ||
	    !covered_enough(result->reachable, result->covered)) {
		if ((error = repack(&m, result)) < 0)
			goto done;
	}
	error = 0;
done:
	for (i = 0; i < nrecords; i++)
		gg_reuse_pack_clear(&records[i]);
	free(records);
	gg_pack_names_free(names, nnames);
	if (lock_fd >= 0)
		close(lock_fd);
	free(lock_path);
	gg_oid_array_clear(&m.tips);
	gg_oidmap_clear(&m.reachable);
	free(m.dir);
	free(m.rec_dir);
	return error;
}

void gg_pack_maintain_run(const char *repo_path)
{
	struct gg_pack_maintain_result r;
	git_repository *repo = NULL;
	int error;

	git_libgit2_init();
	git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, GG_PACK_MAINTAIN_CACHE);
	if ((error = git_repository_open_ext(&repo, repo_path, GIT_REPOSITORY_OPEN_NO_SEARCH,
					     NULL)) == 0)
		error = gg_pack_maintain(&r, repo, 0);
	if (error < 0)
		gg_warn("pack maintenance %s: %s", repo_path,
			git_error_last() ? git_error_last()->message : "failed");
	else if (!r.busy && r.walked)
		gg_info("pack maintenance %s: %zu reachable, %zu in %s, %u audited%s", repo_path,
			r.reachable, r.covered, r.pack_name[0] ? r.pack_name : "no pack", r.audited,
			r.repacked ? ", repacked" : "");
	if (error >= 0 && r.repacked)
		gg_info("pack maintenance %s: %u redundant packs deleted (%llu bytes), %u kept "
			"(objects no ref reaches), %u kept (.keep), %u expired (%llu bytes)",
			repo_path, r.pruned, r.pruned_bytes, r.kept_unreachable, r.kept_keep,
			r.expired, r.expired_bytes);
	git_repository_free(repo);
	git_libgit2_shutdown();
}

/* The driver's path: next to the running program, in the build tree, or installed. */
static char *find_driver(void)
{
	static const char *const rel[] = {"/gg-pack-maintain", "/../common/git/gg-pack-maintain"};
	char self[4096], *path, *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	size_t i;

	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')))
			*slash = '\0';
		for (i = 0; i < sizeof(rel) / sizeof(*rel); i++) {
			if (!(path = gg_pack_path_join(self, rel[i] + 1, "")))
				return NULL;
			if (access(path, X_OK) == 0)
				return path;
			free(path);
		}
	}
	if (!(path = gg_pack_path_join(GG_LIBEXECDIR, "gg-pack-maintain", "")))
		return NULL;
	if (access(path, X_OK) == 0)
		return path;
	git_error_set(GIT_ERROR_OS, "cannot find gg-pack-maintain (next to %s or in %s)",
		      n > 0 ? self : "the program", GG_LIBEXECDIR);
	free(path);
	return NULL;
}

int gg_pack_maintain_spawn(const char *repo_path)
{
	static const int reset[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGALRM};
	char *driver = find_driver(), *argv[4];
	struct sigaction dfl;
	struct rlimit rl;
	struct stat st;
	sigset_t none;
	int status, fd, maxfd = 1024;
	size_t i;
	pid_t pid;

	if (!driver)
		return -1;
	/* Everything the children need is prepared here: they only make async-signal-safe calls. */
	argv[0] = driver;
	argv[1] = (char *)"--background";
	argv[2] = (char *)repo_path;
	argv[3] = NULL;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < 65536)
		maxfd = (int)rl.rlim_cur;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&none);
	pid = fork();
	if (pid < 0) {
		git_error_set(GIT_ERROR_OS, "fork: %s", strerror(errno));
		free(driver);
		return -1;
	}
	if (pid > 0) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		free(driver);
		return 0;
	}
	/* The child: detach, and let a grandchild exec the driver. */
	setsid();
	if (fork() != 0)
		_exit(0);
	/* SIGTERM must end it: no handler or ignored signal or mask of the session survives. */
	for (i = 0; i < sizeof(reset) / sizeof(*reset); i++)
		sigaction(reset[i], &dfl, NULL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Hold none of the session's descriptors: the client must see its end. */
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		/* Keep a log file or journal socket, never a pipe to the client. */
		if (fstat(2, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISSOCK(st.st_mode)))
			dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	for (fd = 3; fd < maxfd; fd++)
		close(fd);
	execv(driver, argv);
	_exit(127);
}

void gg_pack_maintain_first(git_repository *repo)
{
	char *dir = gg_pack_repo_dir(repo, GG_PACK_RECORD_DIR);
	struct stat st;

	if (!dir) {
		git_error_clear();
		return;
	}
	if (stat(dir, &st) < 0 && errno == ENOENT &&
	    gg_pack_maintain_spawn(git_repository_path(repo)) < 0) {
		gg_warn("cannot start pack maintenance: %s",
			git_error_last() ? git_error_last()->message : "fork failed");
		git_error_clear();
	}
	free(dir);
}
