/*
 * pack_reuse.h - which on-disk packs may be sent to a client byte for byte.
 *
 * Stock git clones fast because it copies its on-disk pack instead of
 * recomputing it; libgit2's packbuilder recomputes every delta (about 5x
 * slower on a large repository).  Copying a pack is only allowed when it
 * holds nothing the client may not see: a pack can contain an object left
 * behind by a force push (a secret that was pushed and removed).
 *
 * So a pack is sent verbatim only when it has a record: a file
 * <repo>/gitgate-packs/pack-<sha>.record (outside objects/, so git takes it
 * for no garbage), written after checking that the pack holds exactly the
 * objects reachable from a set of tips (an audit against the reachable set,
 * or a full repack of our own), listing those tips.  A fetch may reuse the
 * pack when every recorded tip is reachable from what the client wants,
 * since then every object of the pack is too.  Objects pushed since are
 * walked with the recorded tips as "haves" and appended: the pack holds
 * everything those tips reach, so nothing is missing.
 *
 * Reading records and choosing a pack: pack_reuse.c; writing them (audit,
 * repack, the run after a push): pack_maintain.c.
 *
 * Record format (text):  "gitgate-pack-record 1\n", "pack <hex>\n",
 * "objects <n>\n", then one "tip <hex>\n" per tip.
 */
#ifndef GG_GIT_PACK_REUSE_H
#define GG_GIT_PACK_REUSE_H

#include <git2.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "oidmap.h"
#include "pack_index.h"

/*
 * A recorded pack: its index, the tips it was verified against, and the pack
 * itself, opened when the record was loaded: a maintenance run may delete a
 * redundant pack at any time, and the open file stays readable until closed.
 */
struct gg_reuse_pack {
	struct gg_pack_index idx;
	struct gg_oid_array tips;
	int pack_fd; /* valid while idx is open */
};

void gg_reuse_pack_clear(struct gg_reuse_pack *p);

/* A new descriptor of p's pack (the one opened at load, duplicated); -1 and git_error set. */
int gg_reuse_pack_open(const struct gg_reuse_pack *p);

/*
 * Finds the largest recorded pack of repo whose recorded tips are all
 * reachable from wants.  1 and *out filled when found (release with
 * gg_reuse_pack_clear), 0 when none qualifies, negative on error.
 */
int gg_pack_reuse_find(struct gg_reuse_pack *out, git_repository *repo,
		       const struct gg_oid_array *wants);

struct gg_pack_maintain_result {
	bool walked;	    /* the reachable set was computed (else the cheap check sufficed) */
	size_t reachable;   /* objects reachable from the refs, when walked */
	size_t covered;	    /* of those, in the best recorded pack */
	unsigned audited;   /* packs checked and recorded this time */
	bool repacked;	    /* a new pack was written */
	bool busy;	    /* another maintenance run holds the lock: nothing done */
	char pack_name[64]; /* the best recorded pack afterwards ("pack-<sha>"), or "" */
	unsigned pruned;    /* old packs deleted after the repack: their objects all in the new */
	unsigned long long pruned_bytes; /* their size (.pack, .idx and companions) */
	unsigned kept_unreachable;	 /* old packs kept: objects the new pack lacks */
	unsigned kept_keep;		 /* old packs kept: a .keep (or .promisor) file */
	unsigned stale_records;		 /* records removed: their pack was gone */
	unsigned expired; /* old packs deleted: objects no ref reaches, older than the expiry */
	unsigned long long expired_bytes; /* their size */
	unsigned loose_packed;		  /* loose objects removed: they are in the new pack */
	unsigned loose_expired; /* loose objects removed: no ref reaches them, older than expiry */
};

#define GG_PACK_MAINTAIN_REPACK (1u << 0) /* write a new full pack whatever the cover */

/*
 * How old (seconds since the file was written) objects no ref reaches must
 * be before a full repack deletes them: git's gc.pruneExpire default, two
 * weeks.  Younger ones may belong to a push whose refs are not updated yet.
 */
#define GG_PACK_EXPIRE_DEFAULT ((int64_t)14 * 86400)

/*
 * libgit2's object cache for a process that only maintains packs
 * (GIT_OPT_SET_CACHE_MAX_SIZE): the walk reads each tree once, so a small
 * cache loses nothing (412k objects: 230 MB instead of 630 MB resident).
 */
#define GG_PACK_MAINTAIN_CACHE ((ssize_t)16 << 20)

/*
 * Brings repo's records up to date.  When a recorded pack is still usable
 * (its tips reachable from the refs) and the other packs together hold
 * little, that is all.  Else it computes the objects reachable from every
 * ref, audits packs without a record against them, and writes a new
 * pack of exactly the reachable objects (libgit2 packbuilder, slow) when the
 * best recorded pack leaves more than a tenth of them (at least 1000) to be
 * built per fetch, or when flags ask for it.
 *
 * After such a repack (the new pack written, synced, indexed and recorded)
 * every older pack whose objects are all in the new pack is redundant and
 * deleted with its companions (.idx, .rev, .bitmap, .mtimes) and its record:
 * no object leaves the repository, and a reader that has the old pack open
 * keeps reading it (pack_send.c holds the reused pack open from the moment
 * its record is loaded; libgit2 looks for a vanished object again in the
 * refreshed pack list).  A pack holding an object the new pack lacks (no
 * ref reaches it: force-pushed away, or a push in flight) is kept while it
 * is younger than GG_PACK_EXPIRE_DEFAULT and deleted after; a pack with a
 * .keep or .promisor file is always kept.  Loose objects (stock git's
 * receive-pack behind gate-hook unpacks small pushes) are removed when they
 * are in the new pack, or when no ref reaches them and they are older than
 * the expiry.  Every run also removes the records whose pack is gone (a
 * stock git gc).
 *
 * One run per repository at a time (a lock file in gitgate-packs/); a
 * second one returns at once with result->busy set.
 */
int gg_pack_maintain(struct gg_pack_maintain_result *result, git_repository *repo, unsigned flags);

/* The same with another expiry (seconds; 0: whatever no ref reaches goes now). */
int gg_pack_maintain_expire(struct gg_pack_maintain_result *result, git_repository *repo,
			    unsigned flags, int64_t expire);

/*
 * Runs gg_pack_maintain on repo_path in a detached background process, for
 * after a push: a double fork whose grandchild at once execs the
 * gg-pack-maintain driver (next to the running program, in the build tree,
 * or in GG_LIBEXECDIR), so nothing of the possibly multi-threaded caller
 * (allocator locks, libgit2 state) is used after the fork.  Returns at
 * once; 0 when started.
 */
int gg_pack_maintain_spawn(const char *repo_path);

/* What the spawned driver runs ("gg-pack-maintain --background REPO"): logs, never prints. */
void gg_pack_maintain_run(const char *repo_path);

/*
 * For a repository that was never maintained (imported, or copied into
 * place): starts the background maintenance once, so that later clones
 * find a record.  Does nothing when it has run before.
 */
void gg_pack_maintain_first(git_repository *repo);

#endif
