/*
 * upload_pack.h - state shared by the v0 and v2 halves of upload-pack.
 *
 * Internal to gg_git: upload_pack.c holds the session, the v0 protocol and
 * what both versions share (want checks, negotiation, shallow, sending the
 * pack); upload_pack_v2.c the v2 command loop.  The functions the two
 * share are named gg_upload_pack__* (internal, libgit2-style).  One struct carries a whole
 * session; the fetch_* fields describe the current fetch request and are
 * reset between v2 commands.
 */
#ifndef GG_GIT_UPLOAD_PACK_H
#define GG_GIT_UPLOAD_PACK_H

#include <stdbool.h>
#include <stdint.h>

#include "commit_graph.h"
#include "object_walk.h"
#include "oidmap.h"
#include "pktline.h"
#include "ref_list.h"
#include "serve.h"
#include "shallow.h"

struct upload_pack_data {
	git_repository *repo;
	git_odb *odb;
	const struct gg_git_io *io;
	const struct gg_upload_pack_options *opts;
	const char *agent;
	struct gg_pkt_reader *reader;
	struct gg_ref_list refs;

	/* The current fetch request. */
	struct gg_oid_array wants;
	struct gg_oid_array common; /* haves we have: the pack leaves them out */
	struct gg_oid_array client_shallows;
	struct gg_oid_array deepen_not; /* resolved to object ids */
	uint32_t depth;
	bool deepen_relative;
	int64_t deepen_since;
	struct gg_filter filter;
	struct gg_shallow_result shallow;

	/* Negotiation: commits the client has (THEY_HAVE) and wants it can build on. */
	struct gg_commit_graph graph;
	struct gg_oidmap wants_satisfied;
	int64_t oldest_have;

	/* What the client asked for. */
	int multi_ack;	 /* 0, 1 (multi_ack) or 2 (multi_ack_detailed) */
	size_t sideband; /* 0, or data bytes per side-band packet */
	bool no_progress;
	bool include_tag;
	bool thin_pack;	    /* deltas against objects the client has are welcome */
	bool done;	    /* v2: "done" */
	bool wait_for_done; /* v2: never send "ready" */
};

/* Clears the fetch_* part of data, before the next v2 command. */
void gg_upload_pack__reset_request(struct upload_pack_data *data);

/*
 * Parses the request lines v0 and v2 share ("shallow", "deepen...",
 * "filter").  Returns 1 when line was one of them, 0 when not, -1 on a bad
 * value (message in git_error_last()).
 */
int gg_upload_pack__parse_deepen_line(struct upload_pack_data *data, const char *line);

/* Checks every want against the visible refs: -1 with "not our ref" if one is not allowed. */
int gg_upload_pack__check_wants(struct upload_pack_data *data);

/*
 * Records one "have": 1 if we have the object (it is common), 0 if not.
 * Marks commits and their parents as known to the client.
 */
int gg_upload_pack__got_have(struct upload_pack_data *data, const git_oid *oid);

/* True when every wanted commit reaches something the client has. */
int gg_upload_pack__ok_to_give_up(struct upload_pack_data *data, bool *ok);

/* Whether the request asks for a new shallow boundary. */
bool gg_upload_pack__wants_deepen(const struct upload_pack_data *data);

/* Computes data->shallow for the request (deepen, or keep the client's). */
int gg_upload_pack__compute_shallow(struct upload_pack_data *data);

/* Sends "shallow" / "unshallow" lines for data->shallow. */
int gg_upload_pack__send_shallow_lines(struct upload_pack_data *data);

/* Builds and sends the pack (side-band as negotiated). */
int gg_upload_pack__send_pack(struct upload_pack_data *data);

/* v2: capability advertisement, then commands until the client hangs up. */
int gg_upload_pack__serve_v2(struct upload_pack_data *data);

#endif
