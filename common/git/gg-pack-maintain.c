/*
 * gg-pack-maintain - runs gg_pack_maintain (pack_reuse.h) on one bare
 * repository, for tests and benchmarks that have no gitgate store.
 *
 *   gg-pack-maintain [--full] REPO
 *   gg-pack-maintain --background REPO
 *
 * --background is what gg_pack_maintain_spawn execs after a push: lowered
 * priority, log lines on stderr (the daemon's log), nothing printed.
 * Prints "walked|quick <reachable> <covered> <pack-name|-> <audited> <repacked 0|1>
 * <packs deleted> <bytes freed> <kept: unreachable objects> <kept: .keep> <stale records removed>".
 * gatectl repack is the administrator's command for the same.
 */
#include <git2.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pack_reuse.h"

int main(int argc, char **argv)
{
	struct gg_pack_maintain_result r;
	git_repository *repo = NULL;
	unsigned flags = 0;
	int error;

	if (argc == 3 && !strcmp(argv[1], "--background")) {
		gg_log_setup("gg-pack-maintain", "info", "text");
		if (nice(10) < 0) {
			/* Not fatal: maintenance then runs at normal priority. */
		}
		gg_pack_maintain_run(argv[2]);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--full"))
		flags = GG_PACK_MAINTAIN_REPACK;
	else if (argc != 2) {
		fprintf(stderr, "usage: gg-pack-maintain [--full] REPO\n");
		return 2;
	}
	git_libgit2_init();
	git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, GG_PACK_MAINTAIN_CACHE);
	error = git_repository_open_ext(&repo, argv[argc - 1], GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (!error)
		error = gg_pack_maintain(&r, repo, flags);
	if (error < 0) {
		fprintf(stderr, "gg-pack-maintain: %s\n",
			git_error_last() ? git_error_last()->message : "failed");
	} else {
		printf("%s %zu %zu %s %u %d %u %llu %u %u %u\n", r.walked ? "walked" : "quick",
		       r.reachable, r.covered, r.pack_name[0] ? r.pack_name : "-", r.audited,
		       r.repacked ? 1 : 0, r.pruned, r.pruned_bytes, r.kept_unreachable,
		       r.kept_keep, r.stale_records);
	}
	git_repository_free(repo);
	git_libgit2_shutdown();
	return error < 0 ? 1 : 0;
}
