/*
 * fuzz_upload_request.c - upload-pack requests, v0 and v2
 * (gg_upload_pack, common/git/serve.h).
 *
 * The request parser (wants, haves, shallow, deepen, deepen-since,
 * deepen-not, filter, capabilities, v2 commands) needs a repository to
 * resolve what it reads, so the whole session is driven on the fixed
 * repository of fuzz_repo.c.  Input byte 0 selects the protocol version
 * (% 3: 0, 1 or 2) and byte 1 the read chunk size; the rest is what the
 * client sends.  Whatever the server writes is dropped.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_io.h"
#include "fuzz_repo.h"
#include "serve.h"

static struct fuzz_repo repo;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (fuzz_repo_create(&repo) < 0)
		abort();
	return 0;
}

static int hide_refs_under_hidden(void *ctx, const char *refname)
{
	(void)ctx;
	return refname[0] == 'r' && !strncmp(refname, "refs/hidden/", 12);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gg_upload_pack_options opts = {
	    .agent = "gitgate/fuzz",
	    .hide_ref = hide_refs_under_hidden,
	    .pack_threads = 1,
	    .keepalive_seconds = 3600,
	};
	struct fuzz_io f;
	struct gg_git_io io;
	int version;

	if (size < 2)
		return 0;
	version = data[0] % 3;
	fuzz_io_init(&f, &io, data + 2, size - 2, data[1]);
	(void)gg_upload_pack(repo.path, &io, version, &opts);
	return 0;
}
