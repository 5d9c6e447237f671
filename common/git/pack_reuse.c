/*
 * pack_reuse.c - see pack_reuse.h.
 *
 * Safety rests on one invariant: a record is written only for a pack whose
 * every object was found in the closure of the tips it lists, and a fetch
 * uses it only when those tips are in the closure of its wants (which have
 * been checked against the refs the client may see).  A force push that
 * removes a recorded tip therefore disables the record by itself.
 *
 * This file reads records and picks one for a fetch; pack_maintain.c
 * writes them.
 */
#include "pack_reuse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pack_record.h"
#include "reachable.h"
#include "ref_list.h"

#define MAX_RECORD_SIZE (64u << 20)

void gg_reuse_pack_clear(struct gg_reuse_pack *p)
{
	/* A zeroed struct holds no descriptor: pack_fd counts only with an open index. */
	if (p->idx.map && p->pack_fd >= 0)
		close(p->pack_fd);
	gg_pack_index_close(&p->idx);
	gg_oid_array_clear(&p->tips);
	p->pack_fd = -1;
}

int gg_reuse_pack_open(const struct gg_reuse_pack *p)
{
	int fd;

	if (!p->idx.map || p->pack_fd < 0) {
		git_error_set_str(GIT_ERROR_INVALID, "no recorded pack is open");
		return -1;
	}
	if ((fd = fcntl(p->pack_fd, F_DUPFD_CLOEXEC, 3)) < 0)
		git_error_set(GIT_ERROR_OS, "cannot duplicate the descriptor of '%s': %s",
			      p->idx.pack_path, strerror(errno));
	return fd;
}

/* <repo>/sub: objects/pack, or the records' directory (outside objects/, where git looks). */
char *gg_pack_repo_dir(git_repository *repo, const char *sub)
{
	const char *base = git_repository_path(repo);
	size_t len = strlen(base) + strlen(sub) + 1;
	char *dir = malloc(len);

	if (!dir) {
		git_error_set_oom();
		return NULL;
	}
	snprintf(dir, len, "%s%s", base, sub);
	return dir;
}

char *gg_pack_path_join(const char *dir, const char *name, const char *suffix)
{
	size_t len = strlen(dir) + strlen(name) + strlen(suffix) + 2;
	char *p = malloc(len);

	if (!p) {
		git_error_set_oom();
		return NULL;
	}
	snprintf(p, len, "%s/%s%s", dir, name, suffix);
	return p;
}

/* Reads a whole small file; NUL-terminated. */
static int read_small_file(char **out, const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	*out = NULL;
	if (!f) {
		git_error_set(GIT_ERROR_OS, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (cap - len < 4097) {
			char *b;

			cap = cap ? cap * 2 : 8192;
			if (cap > MAX_RECORD_SIZE || !(b = realloc(buf, cap))) {
				git_error_set_str(GIT_ERROR_INVALID, "pack record too large");
				free(buf);
				fclose(f);
				return -1;
			}
			buf = b;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	*out = buf;
	return 0;
}

/*
 * The pack of idx, opened, when it is there and ends with the index's
 * checksum; else -1.  Kept open for the fetch: a pack deleted by a later
 * maintenance run stays readable through it.
 */
static int open_pack(const struct gg_pack_index *idx)
{
	unsigned char tail[20];
	struct stat st;
	bool ok = false;
	int fd = open(idx->pack_path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && st.st_size >= 32 &&
	    pread(fd, tail, sizeof(tail), st.st_size - 20) == (ssize_t)sizeof(tail))
		ok = !memcmp(tail, idx->checksum.id, sizeof(tail));
	if (!ok) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Loads the record of the pack named base ("pack-<sha>") from rec_dir, with
 * its index from dir.  0 when loaded, GIT_ENOTFOUND when the record is missing or does
 * not match the pack (then it is ignored), -1 on error.
 */
static int load_record(struct gg_reuse_pack *out, const char *rec_dir, const char *dir,
		       const char *base)
{
	char *rec_path = NULL, *idx_path = NULL, *text = NULL, *line, *save = NULL;
	git_oid oid, pack_sum;
	unsigned long long nobjects = 0;
	int error = GIT_ENOTFOUND, lineno = 0;
	bool have_sum = false;

	memset(out, 0, sizeof(*out));
	out->pack_fd = -1;
	if (!(rec_path = gg_pack_path_join(rec_dir, base, GG_PACK_RECORD_SUFFIX)) ||
	    !(idx_path = gg_pack_path_join(dir, base, ".idx"))) {
		error = -1;
		goto done;
	}
	if (read_small_file(&text, rec_path) < 0) {
		git_error_clear();
		goto done;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (lineno++ == 0) {
			if (strcmp(line, GG_PACK_RECORD_MAGIC))
				goto bad;
		} else if (!strncmp(line, "pack ", 5)) {
			if (git_oid_fromstr(&pack_sum, line + 5) < 0 || strlen(line + 5) != 40)
				goto bad;
			have_sum = true;
		} else if (!strncmp(line, "objects ", 8)) {
			nobjects = strtoull(line + 8, NULL, 10);
		} else if (!strncmp(line, "tip ", 4)) {
			if (git_oid_fromstr(&oid, line + 4) < 0 || strlen(line + 4) != 40)
				goto bad;
			if (gg_oid_array_append(&out->tips, &oid) < 0) {
				error = -1;
				goto done;
			}
		} else {
			goto bad;
		}
	}
	if (!have_sum || !out->tips.nr)
		goto bad;
	if (gg_pack_index_open(&out->idx, idx_path) < 0) {
		git_error_clear();
		goto done;
	}
	if (!git_oid_equal(&out->idx.checksum, &pack_sum) || out->idx.nr != nobjects)
		goto bad;
	/*
	 * A pack holding the closure of its tips holds the tips themselves.  A
	 * record failing this (written for other refs, or for another pack)
	 * would make a fetch leave out objects it must send.
	 */
	for (size_t i = 0; i < out->tips.nr; i++)
		if (!gg_pack_index_contains(&out->idx, &out->tips.ids[i]))
			goto bad;
	if ((out->pack_fd = open_pack(&out->idx)) < 0)
		goto done; /* removed or replaced (git gc): not an error, just not usable */
	error = 0;
	goto done;
bad:
	gg_warn("ignoring invalid pack record %s", rec_path);
	error = GIT_ENOTFOUND;
done:
	if (error)
		gg_reuse_pack_clear(out);
	free(text);
	free(rec_path);
	free(idx_path);
	return error;
}

/* The pack names ("pack-<sha>") of dir that end in suffix.  NULL-terminated. */
int gg_pack_list(char ***out, size_t *nout, const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t nr = 0, alloc = 0, slen = strlen(suffix);
	int error = 0;

	*out = NULL;
	*nout = 0;
	if (!d)
		return 0; /* no packs at all */
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (strncmp(e->d_name, "pack-", 5) || len <= slen ||
		    strcmp(e->d_name + len - slen, suffix))
			continue;
		if (nr == alloc) {
			size_t n = alloc ? alloc * 2 : 8;
			char **p = realloc(names, n * sizeof(*p));

			if (!p) {
				error = -1;
				break;
			}
			names = p;
			alloc = n;
		}
		if (!(names[nr] = strndup(e->d_name, len - slen))) {
			error = -1;
			break;
		}
		nr++;
	}
	closedir(d);
	if (error < 0) {
		git_error_set_oom();
		while (nr)
			free(names[--nr]);
		free(names);
		return -1;
	}
	*out = names;
	*nout = nr;
	return 0;
}

void gg_pack_names_free(char **names, size_t nr)
{
	while (nr)
		free(names[--nr]);
	free(names);
}

static int by_size_desc(const void *a, const void *b)
{
	const struct gg_reuse_pack *x = a, *y = b;

	return x->idx.nr < y->idx.nr ? 1 : x->idx.nr > y->idx.nr ? -1 : 0;
}

/* All valid records of repo, largest pack first. */
int gg_pack_records_load(struct gg_reuse_pack **out, size_t *nout, git_repository *repo)
{
	struct gg_reuse_pack *packs = NULL;
	char *dir = gg_pack_repo_dir(repo, "objects/pack"),
	     *rec_dir = gg_pack_repo_dir(repo, GG_PACK_RECORD_DIR);
	char **names = NULL;
	size_t nnames = 0, nr = 0, i;
	int error = -1;

	*out = NULL;
	*nout = 0;
	if (!dir || !rec_dir || gg_pack_list(&names, &nnames, rec_dir, GG_PACK_RECORD_SUFFIX) < 0)
		goto done;
	if (nnames && !(packs = calloc(nnames, sizeof(*packs)))) {
		git_error_set_oom();
		goto done;
	}
	for (i = 0; i < nnames; i++) {
		int r = load_record(&packs[nr], rec_dir, dir, names[i]);

		if (r < 0 && r != GIT_ENOTFOUND) {
			while (nr)
				gg_reuse_pack_clear(&packs[--nr]);
			free(packs);
			packs = NULL;
			goto done;
		}
		if (r == 0)
			nr++;
	}
	if (nr)
		qsort(packs, nr, sizeof(*packs), by_size_desc);
	*out = packs;
	*nout = nr;
	packs = NULL;
	error = 0;
done:
	free(packs);
	gg_pack_names_free(names, nnames);
	free(dir);
	free(rec_dir);
	return error;
}

/* The wants as a ref list, so reachable.h can check tips against them. */
int gg_pack_wants_as_refs(struct gg_ref_list *out, git_repository *repo,
			  const struct gg_oid_array *wants)
{
	static char name[] = "want";
	git_object *obj = NULL, *peeled = NULL;
	size_t i;
	int error;

	memset(out, 0, sizeof(*out));
	if (wants->nr && !(out->refs = calloc(wants->nr, sizeof(*out->refs)))) {
		git_error_set_oom();
		return -1;
	}
	for (i = 0; i < wants->nr; i++) {
		struct gg_ref *ref = &out->refs[out->nr];

		if ((error = git_object_lookup(&obj, repo, &wants->ids[i], GIT_OBJECT_ANY)) < 0)
			return error;
		ref->name = name;
		git_oid_cpy(&ref->oid, &wants->ids[i]);
		if (git_object_type(obj) == GIT_OBJECT_TAG) {
			if ((error = git_object_peel(&peeled, obj, GIT_OBJECT_ANY)) < 0) {
				git_object_free(obj);
				return error;
			}
			ref->is_tag = true;
			git_oid_cpy(&ref->peeled, git_object_id(peeled));
			git_object_free(peeled);
		}
		git_object_free(obj);
		out->nr++;
	}
	return 0;
}

int gg_pack_reuse_find(struct gg_reuse_pack *out, git_repository *repo,
		       const struct gg_oid_array *wants)
{
	struct gg_reuse_pack *packs = NULL;
	struct gg_ref_list refs;
	size_t npacks = 0, i;
	git_oid refused;
	int error, found = 0;

	memset(out, 0, sizeof(*out));
	out->pack_fd = -1;
	memset(&refs, 0, sizeof(refs));
	if ((error = gg_pack_records_load(&packs, &npacks, repo)) < 0)
		return error;
	if (!npacks) {
		free(packs); /* allocated even when no record is valid */
		return 0;
	}
	if ((error = gg_pack_wants_as_refs(&refs, repo, wants)) < 0)
		goto done;
	for (i = 0; i < npacks && !found; i++) {
		error = gg_check_wants(&refused, repo, &refs, &packs[i].tips);
		if (error < 0)
			goto done;
		if (error == 0) {
			*out = packs[i];
			memset(&packs[i], 0, sizeof(packs[i]));
			found = 1;
		} else {
			char hex[GIT_OID_HEXSZ + 1];

			git_oid_tostr(hex, sizeof(hex), &refused);
			gg_info("pack reuse: %s not usable, tip %s is not wanted",
				strrchr(packs[i].idx.pack_path, '/') + 1, hex);
		}
	}
	error = found;
done:
	for (i = 0; i < npacks; i++)
		gg_reuse_pack_clear(&packs[i]);
	free(packs);
	free(refs.refs);
	return error;
}
