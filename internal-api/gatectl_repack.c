/*
 * gatectl_repack.c - 'gatectl repack' (gatectl_repack.h).
 *
 * One line per project on standard output:
 *   <path>: <n> reachable objects, <m> in pack-<sha> (<k> audited[, repacked])
 * "<path>: up to date, <m> objects in pack-<sha>" when the recorded pack
 * still serves, or "<path>: no reusable pack" when nothing could be recorded.
 * After a repack a second line:
 *   <path>: <n> redundant packs removed (<b> bytes), <u> kept (objects no ref
 *   reaches), <k> kept (.keep)
 * and when records of vanished packs were removed:
 *   <path>: <s> stale records removed (their pack was gone)
 * and when a full repack deleted what no ref reaches, older than the expiry,
 * or loose objects:
 *   <path>: <e> packs of objects no ref reaches deleted (<b> bytes, older
 *   than <expiry>), <l> loose objects removed (in the new pack), <x> loose
 *   objects removed (no ref reaches them, older than <expiry>)
 */
#include "gatectl_repack.h"

#include <getopt.h>
#include <git2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "pack_reuse.h"
#include "store.h"
#include "util.h"

static int usage(void)
{
	fputs("gatectl: usage: gatectl repack (PROJECT | --all) [--full [--expire 14d]]\n", stderr);
	return 2;
}

/* "now", or a duration ("14d", "2w", gg_parse_duration) up to 100 years, as
 * seconds; -1 when invalid. */
static int64_t parse_expire(const char *text)
{
	return strcmp(text, "now") ? gg_parse_duration(text, 100LL * 366 * 86400) : 0;
}

static int repack_one(const struct gg_config *cfg, const struct gg_project *p, unsigned flags,
		      int64_t expire, const char *expire_text)
{
	struct gg_pack_maintain_result r;
	git_repository *repo = NULL;
	char *path = gg_strdup_printf("%s/%s", cfg->storage_root, p->repo_path);
	int error;

	if ((error = git_repository_open_ext(&repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL)) ==
	    0)
		error = gg_pack_maintain_expire(&r, repo, flags, expire);
	git_repository_free(repo);
	free(path);
	if (error < 0) {
		fprintf(stderr, "gatectl: %s: %s\n", p->full_path,
			git_error_last() ? git_error_last()->message : "repack failed");
		return 1;
	}
	if (r.busy) {
		printf("%s: busy (another repack is running)\n", p->full_path);
		return 0;
	}
	if (!r.pack_name[0])
		printf("%s: no reusable pack (%zu reachable objects)\n", p->full_path, r.reachable);
	else if (!r.walked)
		printf("%s: up to date, %zu objects in %s\n", p->full_path, r.covered, r.pack_name);
	else
		printf("%s: %zu reachable objects, %zu in %s (%u audited%s)\n", p->full_path,
		       r.reachable, r.covered, r.pack_name, r.audited,
		       r.repacked ? ", repacked" : "");
	if (r.repacked)
		printf("%s: %u redundant packs removed (%llu bytes), %u kept (objects no ref "
		       "reaches), %u kept (.keep)\n",
		       p->full_path, r.pruned, r.pruned_bytes, r.kept_unreachable, r.kept_keep);
	if (r.expired || r.loose_packed || r.loose_expired)
		printf(
		    "%s: %u packs of objects no ref reaches deleted (%llu bytes, older than %s), "
		    "%u loose objects removed (in the new pack), %u loose objects removed (no ref "
		    "reaches them, older than %s)\n",
		    p->full_path, r.expired, r.expired_bytes, expire_text, r.loose_packed,
		    r.loose_expired, expire_text);
	if (r.stale_records)
		printf("%s: %u stale records removed (their pack was gone)\n", p->full_path,
		       r.stale_records);
	return 0;
}

int gg_gatectl_repack_main(const char *config, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"all", no_argument, NULL, 'a'},
	    {"full", no_argument, NULL, 'f'},
	    {"expire", required_argument, NULL, 'e'},
	    {NULL, 0, NULL, 0},
	};
	struct gg_config cfg;
	struct gg_store *st = NULL;
	struct gg_project *list = NULL, one;
	size_t count = 0, i;
	unsigned flags = 0;
	bool all = false;
	int64_t expire = GG_PACK_EXPIRE_DEFAULT;
	const char *expire_text = "14d";
	char err[512];
	int opt, ret = 0;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'a':
			all = true;
			break;
		case 'f':
			flags |= GG_PACK_MAINTAIN_REPACK;
			break;
		case 'e':
			if ((expire = parse_expire(optarg)) < 0) {
				fprintf(stderr,
					"gatectl: --expire: expected a duration such as 14d, 2w or "
					"now, not '%s'\n",
					optarg);
				return 2;
			}
			expire_text = optarg;
			break;
		default:
			return usage();
		}
	}
	if (all ? optind != argc : optind != argc - 1)
		return usage();
	gg_config_init(&cfg);
	if (gg_config_load(&cfg, config, err, sizeof(err)) < 0) {
		fprintf(stderr, "gatectl: %s\n", err);
		gg_config_clear(&cfg);
		return 1;
	}
	if (gg_store_open(&st, cfg.database_url, err, sizeof(err)) != GG_OK) {
		fprintf(stderr, "gatectl: %s\n", err);
		gg_config_clear(&cfg);
		return 1;
	}
	git_libgit2_init();
	git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, GG_PACK_MAINTAIN_CACHE);
	if (all) {
		if (gg_store_project_list(st, &list, &count) != GG_OK) {
			fprintf(stderr, "gatectl: cannot list projects\n");
			ret = 1;
		}
		for (i = 0; i < count; i++)
			if (repack_one(&cfg, &list[i], flags, expire, expire_text))
				ret = 1;
		free(list);
	} else {
		int rc = gg_store_project_get_by_path(st, argv[optind], &one);

		if (rc == GG_ENOTFOUND) {
			fprintf(stderr, "gatectl: project '%s' not found\n", argv[optind]);
			ret = 1;
		} else if (rc != GG_OK) {
			fprintf(stderr, "gatectl: project lookup failed\n");
			ret = 1;
		} else {
			ret = repack_one(&cfg, &one, flags, expire, expire_text);
		}
	}
	git_libgit2_shutdown();
	gg_store_close(st);
	gg_config_clear(&cfg);
	return ret;
}
