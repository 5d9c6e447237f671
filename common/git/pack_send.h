/*
 * pack_send.h - builds the pack a fetch asked for and streams it.
 *
 * The one entry point for "send these objects": it lists them
 * (object_walk.h), builds the pack with libgit2's packbuilder and streams
 * it on side-band 1 while telling the user how far it got on side-band 2,
 * the way git does ("Enumerating objects", "Counting objects",
 * "Compressing objects", "Total").  The packbuilder is silent until its
 * whole delta search is done, so a thread sends keep-alive packets while
 * nothing else is written.  Protocol code calls only this, so the strategy
 * can change here.
 *
 * The strategy: a whole-history request whose wants reach every tip of a
 * recorded pack (pack_reuse.h) gets that pack byte for byte, followed by
 * what the wants reach beyond it.  Otherwise, and for what follows a reused
 * pack, each object's packed entry is copied when it is whole or a delta on
 * something in the stream (or, for thin packs, on something the client has;
 * pack_copy.h), and only the rest goes through the packbuilder.
 */
#ifndef GG_GIT_PACK_SEND_H
#define GG_GIT_PACK_SEND_H

#include <stdbool.h>

#include "object_walk.h"
#include "serve.h"

struct gg_pack_send_options {
	/* 0: the pack goes raw on the wire; else the data bytes per side-band packet. */
	size_t sideband;
	bool progress;	    /* progress messages on side-band 2 */
	unsigned threads;   /* for the delta search; 0 = one per CPU */
	unsigned keepalive; /* seconds of silence before a keep-alive; 0 = 5 */
	bool thin;	    /* the client accepts deltas against objects it has (thin-pack) */
};

/*
 * Sends the pack for req on io.  On failure after the pack has started the
 * client has been told on side-band 3 (when there is a side-band).
 */
int gg_pack_send(const struct gg_walk_request *req, const struct gg_git_io *io,
		 const struct gg_pack_send_options *opts);

#endif
