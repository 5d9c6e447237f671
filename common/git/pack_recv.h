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
#include <stdint.h>

#include "pktline.h"

/*
 * What a pushed pack may claim and hold.  The pack header's object count is
 * a 32-bit number the client chooses, and libgit2's indexer sizes its tables
 * from it before a single object arrives; an object header's size is what
 * libgit2 allocates when it later inflates the object or applies a delta to
 * it.  So both are checked here, on the wire, before the indexer sees them:
 * the count against max_objects, each object's declared size (and for a
 * delta the size of its result, read from the delta's own header) against
 * max_object_size, and the bytes an object really inflates to against its
 * declared size.  max_input_size bounds the bytes of the whole pack
 * (git's receive.maxInputSize); 0 means no bound.
 */
struct gg_pack_limits {
	uint64_t max_input_size;
	uint32_t max_objects;
	uint64_t max_object_size;
};

struct gg_quarantine {
	char *dir;	 /* objects/incoming-XXXXXX; NULL when nothing was received */
	int lock_fd;	 /* flock held on dir's lock file while dir != NULL */
	char *pack_name; /* "pack-<hash>" once indexed */
	git_odb *odb;	 /* the quarantined objects alone */
	uint32_t nobjects;
	/* Files moved into objects/pack by gg_quarantine_migrate (to undo it). */
	char *moved_pack, *moved_idx;
	/*
	 * When gg_pack_receive refused the pack for exceeding a limit: the
	 * reason for the client (a GG_MSG_* text), else NULL.
	 */
	const char *refusal;
};

/*
 * Reads the pack that follows the commands, stopping after its last object
 * and the 20-byte trailer.  A pack of zero objects is read and dropped
 * without indexing.  progress, when not NULL, receives the indexer's
 * statistics now and then.  A pack over one of the limits is refused as
 * soon as that shows, with q->refusal set, nothing more read and nothing
 * kept.  Returns 0 or -1 (reason in git_error_last()).
 */
int gg_pack_receive(struct gg_quarantine *q, git_repository *repo, struct gg_pkt_reader *r,
		    const struct gg_pack_limits *limits, git_indexer_progress_cb progress,
		    void *progress_ctx);

/*
 * Reads the pack that follows the commands and throws it away, for a push
 * refused before its pack: the client gets its report once it has sent
 * everything.  The limits apply as in gg_pack_receive (q->refusal).
 */
int gg_pack_drain(struct gg_quarantine *q, struct gg_pkt_reader *r,
		  const struct gg_pack_limits *limits);

/* Moves the quarantined pack into the repository's objects/pack. */
int gg_quarantine_migrate(struct gg_quarantine *q, git_repository *repo);

/* Removes what gg_quarantine_migrate moved, when no ref ended up using it. */
void gg_quarantine_unmigrate(struct gg_quarantine *q);

/* Deletes the quarantine directory and frees q. */
void gg_quarantine_discard(struct gg_quarantine *q);

#endif
