/*
 * upload_archive.c - git archive --remote.
 *
 * The client sends its arguments as "argument <arg>" lines and a flush; the
 * server answers "ACK" (or "NACK <reason>") and a flush, then the archive
 * on side-band 1 and a final flush.  As with git's default
 * (uploadArchive.allowUnreachable off), the tree-ish must name a visible
 * ref, optionally with ":<path>", so nothing unreachable can be archived.
 * Formats: tar (ustar with pax headers for long names), tgz / tar.gz, zip.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive.h"
#include "pktline.h"
#include "ref_list.h"
#include "serve.h"

#define MAX_ARGS 64

struct archive_data {
	git_repository *repo;
	const struct gg_git_io *io;
	struct gg_pkt_reader *reader;
	struct gg_ref_list refs;
	char *args[MAX_ARGS];
	size_t nargs;

	/* The request. */
	const char *prefix;
	const char *treeish;
	const char *const *paths;
	size_t npaths;
	git_tree *tree;

	struct gg_archive ar;
	unsigned char out[GG_SIDEBAND_MAX_DATA];
	size_t out_len;
};

static int flush_out(struct archive_data *a)
{
	int error = 0;

	if (a->out_len)
		error = gg_sideband_write(a->io, GG_BAND_DATA, a->out, a->out_len,
					  GG_SIDEBAND_MAX_DATA);
	a->out_len = 0;
	return error;
}

/* The archive's output: buffered into side-band 1 packets. */
static int write_sideband(void *ctx, const void *data, size_t len)
{
	struct archive_data *a = ctx;
	const unsigned char *p = data;

	while (len) {
		size_t n = sizeof(a->out) - a->out_len;

		if (n > len)
			n = len;
		memcpy(a->out + a->out_len, p, n);
		a->out_len += n;
		p += n;
		len -= n;
		if (a->out_len == sizeof(a->out) && flush_out(a) < 0)
			return -1;
	}
	return 0;
}

/* --- the tree ------------------------------------------------------------- */

/* Does path (a directory when dir) fall under the requested paths? */
static bool path_selected(const struct archive_data *a, const char *path, bool dir)
{
	size_t i, plen = strlen(path);

	if (!a->npaths)
		return true;
	for (i = 0; i < a->npaths; i++) {
		const char *want = a->paths[i];
		size_t wlen = strlen(want);

		while (wlen && want[wlen - 1] == '/')
			wlen--;
		if (plen >= wlen && !strncmp(path, want, wlen) &&
		    (plen == wlen || path[wlen] == '/'))
			return true;
		/* A directory on the way to a requested path. */
		if (dir && wlen > plen && !strncmp(want, path, plen) && want[plen] == '/')
			return true;
	}
	return false;
}

static int write_tree(struct archive_data *a, git_tree *tree, const char *base)
{
	size_t i, n = git_tree_entrycount(tree);
	int error = 0;

	for (i = 0; i < n && !error; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		git_filemode_t mode = git_tree_entry_filemode(e);
		char *rel = gg_strdup_printf("%s%s", base, git_tree_entry_name(e));
		char *full = NULL;
		git_object *obj = NULL;

		if (!rel)
			goto oom;
		if (mode == GIT_FILEMODE_TREE || mode == GIT_FILEMODE_COMMIT) {
			if (!path_selected(a, rel, true)) {
				free(rel);
				continue;
			}
			/* Submodules become empty directories, as in git. */
			if (!(full = gg_strdup_printf("%s%s/", a->prefix, rel)))
				goto oom;
			error = gg_archive_add(&a->ar, full, GIT_FILEMODE_TREE,
					       git_tree_entry_id(e), NULL, 0);
			if (!error && mode == GIT_FILEMODE_TREE) {
				char *sub = gg_strdup_printf("%s/", rel);

				if (!sub)
					goto oom;
				error = git_tree_lookup((git_tree **)&obj, a->repo,
							git_tree_entry_id(e));
				if (!error)
					error = write_tree(a, (git_tree *)obj, sub);
				free(sub);
			}
		} else if (path_selected(a, rel, false)) {
			if (!(full = gg_strdup_printf("%s%s", a->prefix, rel)))
				goto oom;
			error = git_blob_lookup((git_blob **)&obj, a->repo, git_tree_entry_id(e));
			if (!error)
				error = gg_archive_add(&a->ar, full, mode, git_tree_entry_id(e),
						       git_blob_rawcontent((git_blob *)obj),
						       (size_t)git_blob_rawsize((git_blob *)obj));
		}
		git_object_free(obj);
		free(full);
		free(rel);
		continue;
	oom:
		free(rel);
		git_error_set_oom();
		return -1;
	}
	return error;
}

static int write_archive(struct archive_data *a)
{
	int error;

	a->ar.write = write_sideband;
	a->ar.ctx = a;
	if ((error = gg_archive_begin(&a->ar)) < 0)
		return error;
	if (*a->prefix && a->prefix[strlen(a->prefix) - 1] == '/' &&
	    (error = gg_archive_add(&a->ar, a->prefix, GIT_FILEMODE_TREE, git_tree_id(a->tree),
				    NULL, 0)) < 0)
		return error;
	if ((error = write_tree(a, a->tree, "")) < 0 || (error = gg_archive_finish(&a->ar)) < 0)
		return error;
	return flush_out(a);
}

/* --- request -------------------------------------------------------------- */

static int read_arguments(struct archive_data *a)
{
	const char *arg;

	for (;;) {
		if (gg_pkt_read(a->reader) < 0)
			return -1;
		if (a->reader->type == GG_PKT_FLUSH)
			return 0;
		if (a->reader->type != GG_PKT_DATA ||
		    !gg_skip_prefix(a->reader->line, "argument ", &arg)) {
			git_error_set_str(GIT_ERROR_NET, "'argument' token or flush expected");
			return -1;
		}
		if (a->nargs == MAX_ARGS) {
			git_error_set(GIT_ERROR_NET, "Too many options (>%d)", MAX_ARGS - 1);
			return -1;
		}
		if (!(a->args[a->nargs++] = strdup(arg))) {
			git_error_set_oom();
			return -1;
		}
	}
}

static int parse_arguments(struct archive_data *a)
{
	const char *v;
	size_t i;

	a->ar.format = GG_ARCHIVE_TAR;
	a->ar.level = -1;
	a->prefix = "";
	for (i = 0; i < a->nargs; i++) {
		const char *arg = a->args[i];

		if (!strcmp(arg, "--")) {
			i++;
			break;
		}
		if (arg[0] != '-')
			break;
		if (gg_skip_prefix(arg, "--format=", &v)) {
			if (!strcmp(v, "tar"))
				a->ar.format = GG_ARCHIVE_TAR;
			else if (!strcmp(v, "tgz") || !strcmp(v, "tar.gz"))
				a->ar.format = GG_ARCHIVE_TGZ;
			else if (!strcmp(v, "zip"))
				a->ar.format = GG_ARCHIVE_ZIP;
			else
				goto bad;
		} else if (gg_skip_prefix(arg, "--prefix=", &v)) {
			a->prefix = v;
		} else if (arg[0] == '-' && arg[1] >= '0' && arg[1] <= '9' && !arg[2]) {
			a->ar.level = arg[1] - '0';
		} else {
			goto bad;
		}
	}
	if (i >= a->nargs) {
		git_error_set_str(GIT_ERROR_INVALID, "must specify a tree-ish");
		return -1;
	}
	a->treeish = a->args[i++];
	a->paths = (const char *const *)&a->args[i];
	a->npaths = a->nargs - i;
	if (a->ar.level < 0)
		a->ar.level = a->ar.format == GG_ARCHIVE_TAR ? 0 : 6;
	return 0;
bad:
	git_error_set(GIT_ERROR_INVALID, "unsupported option '%s'", a->args[i]);
	return -1;
}

/* "<ref>" or "<ref>:<path>", the ref among the visible ones. */
static int resolve_treeish(struct archive_data *a)
{
	static const char *const rules[] = {"%.*s", "refs/%.*s", "refs/tags/%.*s",
					    "refs/heads/%.*s"};
	const char *colon = strchr(a->treeish, ':');
	int len = colon ? (int)(colon - a->treeish) : (int)strlen(a->treeish);
	const struct gg_ref *ref = NULL;
	git_object *obj = NULL, *peeled = NULL;
	git_tree_entry *entry = NULL;
	size_t i;
	int error;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]) && !ref; i++) {
		char *name = gg_strdup_printf(rules[i], len, a->treeish);

		if (!name) {
			git_error_set_oom();
			return -1;
		}
		if (!strcmp(name, "HEAD"))
			ref = a->refs.head.name ? &a->refs.head : NULL;
		else
			ref = gg_ref_list_find(&a->refs, name);
		free(name);
	}
	if (!ref) {
		git_error_set(GIT_ERROR_REFERENCE, "no such ref: %.*s", len, a->treeish);
		return -1;
	}
	if ((error = git_object_lookup(&obj, a->repo, &ref->oid, GIT_OBJECT_ANY)) < 0)
		return error;
	if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) == 0) {
		git_oid_cpy(&a->ar.commit, git_object_id(peeled));
		a->ar.has_commit = true;
		a->ar.mtime = git_commit_time((git_commit *)peeled);
		git_object_free(peeled);
		peeled = NULL;
	} else {
		git_error_clear();
		a->ar.mtime = time(NULL);
	}
	if ((error = git_object_peel(&peeled, obj, GIT_OBJECT_TREE)) < 0) {
		git_error_set_str(GIT_ERROR_INVALID, "not a tree object");
		goto done;
	}
	if (colon && colon[1]) {
		if (git_tree_entry_bypath(&entry, (git_tree *)peeled, colon + 1) < 0 ||
		    git_tree_entry_type(entry) != GIT_OBJECT_TREE) {
			git_error_set(GIT_ERROR_INVALID, "current working directory is untracked");
			error = -1;
			goto done;
		}
		error = git_tree_lookup(&a->tree, a->repo, git_tree_entry_id(entry));
	} else {
		a->tree = (git_tree *)peeled;
		peeled = NULL;
	}
done:
	git_tree_entry_free(entry);
	git_object_free(peeled);
	git_object_free(obj);
	return error;
}

int gg_upload_archive(const char *repo_path, const struct gg_git_io *io,
		      const struct gg_upload_archive_options *opts)
{
	struct archive_data *a;
	const git_error *e;
	size_t i;
	int error;

	if (!(a = calloc(1, sizeof(*a))) || !(a->reader = malloc(sizeof(*a->reader)))) {
		free(a);
		git_error_set_oom();
		return -1;
	}
	a->io = io;
	gg_pkt_reader_init(a->reader, io);
	if ((error = git_repository_open_ext(&a->repo, repo_path, GIT_REPOSITORY_OPEN_NO_SEARCH,
					     NULL)) < 0 ||
	    (error = gg_ref_list_load(&a->refs, a->repo, opts ? opts->hide_ref : NULL,
				      opts ? opts->ctx : NULL)) < 0 ||
	    (error = read_arguments(a)) < 0)
		goto done;
	if ((error = parse_arguments(a)) < 0 || (error = resolve_treeish(a)) < 0) {
		e = git_error_last();
		gg_pkt_printf(io, "NACK %s\n", e && e->message ? e->message : "bad request");
		gg_pkt_flush(io);
		goto done;
	}
	if ((error = gg_pkt_printf(io, "ACK\n")) < 0 || (error = gg_pkt_flush(io)) < 0)
		goto done;
	if ((error = write_archive(a)) < 0) {
		char msg[512];
		int n;

		e = git_error_last();
		n = snprintf(msg, sizeof(msg), "fatal: %s\n",
			     e && e->message ? e->message : "archive failed");
		if (n > 0)
			gg_sideband_write(io, GG_BAND_ERROR, msg,
					  (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1,
					  GG_SIDEBAND_MAX_DATA);
		goto done;
	}
	error = gg_pkt_flush(io);
done:
	gg_archive_clear(&a->ar);
	for (i = 0; i < a->nargs; i++)
		free(a->args[i]);
	git_tree_free(a->tree);
	gg_ref_list_clear(&a->refs);
	git_repository_free(a->repo);
	free(a->reader);
	free(a);
	return error;
}
