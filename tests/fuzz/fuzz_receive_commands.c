/*
 * fuzz_receive_commands.c - receive-pack: commands, capabilities, push
 * options and the pack that follows (gg_receive_pack, common/git/serve.h).
 *
 * Each input is one push to the repository of fuzz_repo.c, which lives in a
 * temporary directory made in LLVMFuzzerInitialize; afterwards every ref is
 * put back and pushed packs are dropped, so runs do not depend on each
 * other.  Input byte 0: bit 0 set means the access check refuses (the
 * refusal path), clear means it allows (refs really move); byte 1 is the
 * read chunk size.  Run with -max_len (tests/fuzz/run uses 65536) so packs
 * stay small.
 *
 * Known finding (tests/fuzz/crashes/fuzz_receive_commands/
 * pack-header-huge-object-count, RESULTS.md): a pack header declaring
 * millions of objects makes libgit2's indexer allocate for all of them
 * before a single object arrives.  With GG_FUZZ_SKIP_PACK_BOMB=1 such
 * inputs are skipped, so that a long run can look past it; by default
 * they are fuzzed like any other.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_io.h"
#include "fuzz_repo.h"
#include "serve.h"

static struct fuzz_repo repo;
static int skip_pack_bomb;

/* Does the input carry a pack header declaring more than 65536 objects? */
static int declares_huge_pack(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i + 12 <= size; i++) {
		if (memcmp(data + i, "PACK", 4) == 0) {
			const uint8_t *n = data + i + 8;
			uint32_t count = (uint32_t)n[0] << 24 | (uint32_t)n[1] << 16 |
					 (uint32_t)n[2] << 8 | n[3];

			if (count > 65536)
				return 1;
		}
	}
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (fuzz_repo_create(&repo) < 0)
		abort();
	skip_pack_bomb = getenv("GG_FUZZ_SKIP_PACK_BOMB") != NULL;
	return 0;
}

static int check_changes(void *ctx, const char *changes, char *message, size_t msglen)
{
	int refuse = *(const int *)ctx;

	(void)changes;
	if (refuse)
		snprintf(message, msglen, "refused by the fuzzer");
	return refuse;
}

static void post_receive(void *ctx, const char *changes, const char *const *push_options,
			 size_t n_push_options, char *message, size_t msglen)
{
	(void)ctx;
	(void)changes;
	snprintf(message, msglen, "%zu push option(s)%s%s", n_push_options,
		 n_push_options ? ", first: " : "", n_push_options ? push_options[0] : "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int refuse;
	struct gg_receive_pack_options opts = {
	    .agent = "gitgate/fuzz",
	    .check_changes = check_changes,
	    .post_receive = post_receive,
	    .ctx = &refuse,
	};
	struct fuzz_io f;
	struct gg_git_io io;

	if (size < 2 || (skip_pack_bomb && declares_huge_pack(data, size)))
		return 0;
	refuse = data[0] & 1;
	fuzz_io_init(&f, &io, data + 2, size - 2, data[1]);
	(void)gg_receive_pack(repo.path, &io, &opts);
	if (fuzz_repo_reset(&repo) < 0)
		abort();
	return 0;
}
