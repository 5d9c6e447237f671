/*
 * pack_recv.h - a pushed pack, received into quarantine.
 *
 * The objects of a push must not be visible in the repository before the
 * access check has accepted the push: they are indexed into a directory of
 * their own, objects/incoming-XXXXXX, which is added to the repository's
 * in-memory object database as an alternate (so connectivity can be
 * checked), and only moved into objects/pack once the push is allowed.
 * Dropping the quarantine leaves the repository as it was.
 */
#ifndef GG_GIT_PACK_RECV_H
#define GG_GIT_PACK_RECV_H

#include <git2.h>
#include <stdbool.h>

#include "pktline.h"

struct gg_quarantine {
	char *dir;	 /* objects/incoming-XXXXXX; NULL when nothing was received */
	char *pack_name; /* "pack-<hash>" once indexed */
	git_odb *odb;	 /* the quarantined objects alone */
	uint32_t nobjects;
	/* Files moved into objects/pack by gg_quarantine_migrate (to undo it). */
	char *moved_pack, *moved_idx;
};

/*
 * Reads the pack that follows the commands, stopping after its last object
 * and the 20-byte trailer.  A pack of zero objects is read and dropped
 * without indexing.  progress, when not NULL, receives the indexer's
 * statistics now and then.
 */
int gg_pack_receive(struct gg_quarantine *q, git_repository *repo, struct gg_pkt_reader *r,
		    git_indexer_progress_cb progress, void *progress_ctx);

/* Moves the quarantined pack into the repository's objects/pack. */
int gg_quarantine_migrate(struct gg_quarantine *q, git_repository *repo);

/* Removes what gg_quarantine_migrate moved, when no ref ended up using it. */
void gg_quarantine_unmigrate(struct gg_quarantine *q);

/* Deletes the quarantine directory and frees q. */
void gg_quarantine_discard(struct gg_quarantine *q);

#endif
