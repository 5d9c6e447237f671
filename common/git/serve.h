/*
 * serve.h - the Git protocol served from a bare repository, transport-free.
 *
 * libgit2 has no server side, so gitgate speaks the protocol itself:
 * upload-pack (protocol v0/v1 and v2), receive-pack and upload-archive.
 * The SSH daemon and the OpenSSH forced command both call these functions;
 * the wire is a pair of callbacks, so neither knows about sockets, channels
 * or pipes.
 *
 * The one invariant every function here keeps: an object is only ever sent
 * when it is reachable from a ref the client may see, and a push that is
 * refused or interrupted leaves the repository exactly as it was.
 *
 * Each function opens the repository itself, runs one whole session and
 * returns 0, or a negative value with the reason in git_error_last().  The
 * caller must have called git_libgit2_init() in this process.
 */
#ifndef GG_GIT_SERVE_H
#define GG_GIT_SERVE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * The wire.  read returns the number of bytes read (at most len), 0 at end
 * of input, negative on error; write returns the number of bytes written
 * (possibly fewer than len), negative on error.  Both may block.
 */
struct gg_git_io {
	void *ctx;
	ssize_t (*read)(void *ctx, void *buf, size_t len);
	ssize_t (*write)(void *ctx, const void *buf, size_t len);
};

/* The agent string advertised when an options struct leaves it NULL. */
#define GG_GIT_AGENT "gitgate/" GG_VERSION

struct gg_upload_pack_options {
	/* Advertised as agent=<agent>; default GG_GIT_AGENT. */
	const char *agent;
	/*
	 * Refs the client may not see: return non-zero to hide refname.
	 * Hidden refs are neither advertised nor count as reachability
	 * roots for wants.  NULL hides nothing.
	 */
	int (*hide_ref)(void *ctx, const char *refname);
	void *ctx;
	/* Threads for the delta search; 0 = one per CPU. */
	unsigned pack_threads;
	/* Seconds of silence before a keep-alive packet; 0 = 5. */
	unsigned keepalive_seconds;
};

struct gg_receive_pack_options {
	/* Advertised as agent=<agent>; default GG_GIT_AGENT. */
	const char *agent;
	/*
	 * The access check, called after the pack is indexed into quarantine
	 * and before anything is moved into the repository or any ref moves.
	 * changes holds one "<old> <new> <ref>\n" line per ref to update.
	 * Return 0 to allow; non-zero to refuse, with a NUL-terminated reason
	 * written into message (msglen bytes, zeroed beforehand).  On refusal
	 * every ref is reported as "ng <ref> <message>", the message also goes
	 * to the client's terminal, and the quarantine is discarded.
	 * NULL allows everything.
	 */
	int (*check_changes)(void *ctx, const char *changes, char *message, size_t msglen);
	/*
	 * Called once the refs have moved, with the changes that succeeded and
	 * the push options (-o) the client sent.  Whatever it writes into
	 * message is shown to the client as "remote:" lines.  May be NULL.
	 */
	void (*post_receive)(void *ctx, const char *changes, const char *const *push_options,
			     size_t n_push_options, char *message, size_t msglen);
	void *ctx;
	/*
	 * Limits on the pushed pack ([git] in the configuration): bytes of
	 * the whole pack, 0 = unlimited (git's receive.maxInputSize); objects
	 * the pack header may declare, 0 = GG_RECEIVE_MAX_OBJECTS; inflated
	 * size of one object or delta result, 0 = GG_RECEIVE_MAX_OBJECT_SIZE.
	 */
	unsigned long long max_input_size;
	unsigned long max_pack_objects;
	unsigned long long max_object_size;
};

/* Defaults of the receive-pack limits (README, "Configuration"). */
#define GG_RECEIVE_MAX_OBJECTS	   10000000UL
#define GG_RECEIVE_MAX_OBJECT_SIZE (1024ULL * 1024 * 1024)

struct gg_upload_archive_options {
	/* Refs the client may not see, as for upload-pack.  May be NULL. */
	int (*hide_ref)(void *ctx, const char *refname);
	void *ctx;
};

/*
 * Serves one upload-pack session (fetch, clone, ls-remote).
 * protocol_version is 0, 1 or 2, from GIT_PROTOCOL ("version=2").
 */
int gg_upload_pack(const char *repo_path, const struct gg_git_io *io, int protocol_version,
		   const struct gg_upload_pack_options *opts);

/* Serves one receive-pack session (push).  Always protocol v0. */
int gg_receive_pack(const char *repo_path, const struct gg_git_io *io,
		    const struct gg_receive_pack_options *opts);

/*
 * Serves one upload-archive session (git archive --remote): formats tar,
 * tgz / tar.gz and zip of any tree-ish reachable from a visible ref.
 */
int gg_upload_archive(const char *repo_path, const struct gg_git_io *io,
		      const struct gg_upload_archive_options *opts);

#endif
