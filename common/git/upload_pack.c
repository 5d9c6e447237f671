/*
 * upload_pack.c - serving fetches: the session, protocol v0/v1, and what
 * v0 and v2 share (see upload_pack.h).
 *
 * v0 in one breath: advertise refs with capabilities; read wants (and
 * shallow/deepen lines) up to a flush; answer deepen requests with the new
 * shallow boundary; negotiate with rounds of "have" lines until "done";
 * send the pack.  Protocol text follows gitprotocol-pack(5) and
 * gitprotocol-capabilities(5).
 */
#include "upload_pack.h"

#include <stdlib.h>
#include <string.h>

#include "pack_send.h"
#include "reachable.h"

#define V0_CAPABILITIES                                                                            \
	"multi_ack_detailed side-band-64k thin-pack ofs-delta shallow deepen-since deepen-not "    \
	"deepen-relative no-progress include-tag allow-tip-sha1-in-want "                          \
	"allow-reachable-sha1-in-want filter object-format=sha1"

/* Negotiation flags on data->graph nodes. */
#define THEY_HAVE (1u << 0)
#define VISITED	  (1u << 1)

static void upload_pack_data_init(struct upload_pack_data *data, const struct gg_git_io *io,
				  const struct gg_upload_pack_options *opts)
{
	static const struct gg_upload_pack_options defaults;

	memset(data, 0, sizeof(*data));
	data->io = io;
	data->opts = opts ? opts : &defaults;
	data->agent = data->opts->agent ? data->opts->agent : GG_GIT_AGENT;
}

void gg_upload_pack__reset_request(struct upload_pack_data *data)
{
	gg_oid_array_clear(&data->wants);
	gg_oid_array_clear(&data->common);
	gg_oid_array_clear(&data->client_shallows);
	gg_oid_array_clear(&data->deepen_not);
	gg_shallow_result_clear(&data->shallow);
	gg_oidmap_clear(&data->wants_satisfied);
	gg_commit_graph_clear(&data->graph);
	gg_commit_graph_init(&data->graph, data->repo);
	data->depth = 0;
	data->deepen_relative = false;
	data->deepen_since = 0;
	memset(&data->filter, 0, sizeof(data->filter));
	data->oldest_have = 0;
	data->multi_ack = 0;
	data->sideband = 0;
	data->no_progress = false;
	data->include_tag = false;
	data->thin_pack = false;
	data->done = false;
	data->wait_for_done = false;
}

static void upload_pack_data_clear(struct upload_pack_data *data)
{
	gg_upload_pack__reset_request(data);
	gg_commit_graph_clear(&data->graph);
	gg_ref_list_clear(&data->refs);
	free(data->reader);
	git_odb_free(data->odb);
	git_repository_free(data->repo);
}

/* One advertisement line; caps (with the NUL before them) only on the first. */
static int send_ref_line(struct upload_pack_data *data, const git_oid *oid, const char *name,
			 const char *suffix, const struct gg_buf *caps)
{
	char hex[GIT_OID_HEXSZ + 1];
	struct gg_buf line = GG_BUF_INIT;
	int error = -1;

	git_oid_tostr(hex, sizeof(hex), oid);
	if (gg_buf_printf(&line, "%s %s%s", hex, name, suffix) < 0 ||
	    (caps &&
	     (gg_buf_add(&line, "", 1) < 0 || gg_buf_add(&line, caps->data, caps->len) < 0)) ||
	    gg_buf_puts(&line, "\n") < 0) {
		git_error_set_oom();
		goto done;
	}
	error = gg_pkt_write(data->io, line.data, line.len);
done:
	gg_buf_clear(&line);
	return error;
}

static int send_ref_with_peeled(struct upload_pack_data *data, const struct gg_ref *ref,
				const char *name, const struct gg_buf *caps)
{
	int error = send_ref_line(data, &ref->oid, name, "", caps);

	if (!error && ref->is_tag)
		error = send_ref_line(data, &ref->peeled, name, "^{}", NULL);
	return error;
}

static int send_advertisement(struct upload_pack_data *data)
{
	struct gg_buf caps = GG_BUF_INIT;
	const struct gg_buf *first_caps = &caps;
	const struct gg_ref *head = &data->refs.head;
	size_t i;
	int error = -1;

	if (gg_buf_puts(&caps, V0_CAPABILITIES) < 0 ||
	    (head->name && head->symref_target &&
	     gg_buf_printf(&caps, " symref=HEAD:%s", head->symref_target) < 0) ||
	    gg_buf_printf(&caps, " agent=%s", data->agent) < 0) {
		git_error_set_oom();
		goto done;
	}
	if (head->name) {
		if ((error = send_ref_with_peeled(data, head, "HEAD", first_caps)) < 0)
			goto done;
		first_caps = NULL;
	}
	for (i = 0; i < data->refs.nr; i++) {
		if ((error = send_ref_with_peeled(data, &data->refs.refs[i],
						  data->refs.refs[i].name, first_caps)) < 0)
			goto done;
		first_caps = NULL;
	}
	if (first_caps) {
		git_oid zero;

		memset(&zero, 0, sizeof(zero));
		if ((error = send_ref_line(data, &zero, "capabilities^{}", "", first_caps)) < 0)
			goto done;
	}
	error = gg_pkt_flush(data->io);
done:
	gg_buf_clear(&caps);
	return error;
}

static void parse_v0_capabilities(struct upload_pack_data *data, const char *caps)
{
	if (gg_has_capability(caps, "multi_ack_detailed", NULL, NULL))
		data->multi_ack = 2;
	else if (gg_has_capability(caps, "multi_ack", NULL, NULL))
		data->multi_ack = 1;
	if (gg_has_capability(caps, "side-band-64k", NULL, NULL))
		data->sideband = GG_SIDEBAND_MAX_DATA;
	else if (gg_has_capability(caps, "side-band", NULL, NULL))
		data->sideband = GG_SIDEBAND_SMALL_MAX_DATA;
	data->no_progress = gg_has_capability(caps, "no-progress", NULL, NULL);
	data->include_tag = gg_has_capability(caps, "include-tag", NULL, NULL);
	data->thin_pack = gg_has_capability(caps, "thin-pack", NULL, NULL);
	data->deepen_relative = gg_has_capability(caps, "deepen-relative", NULL, NULL);
}

/* Resolves a deepen-not argument among the visible refs, the way git's DWIM does. */
static int resolve_deepen_not(struct upload_pack_data *data, const char *name)
{
	static const char *const rules[] = {"%s",
					    "refs/%s",
					    "refs/tags/%s",
					    "refs/heads/%s",
					    "refs/remotes/%s",
					    "refs/remotes/%s/HEAD"};
	const struct gg_ref *ref = NULL;
	size_t i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]) && !ref; i++) {
		char *full = gg_strdup_printf(rules[i], name);

		if (!full) {
			git_error_set_oom();
			return -1;
		}
		ref = gg_ref_list_find(&data->refs, full);
		free(full);
	}
	if (!ref) {
		git_error_set(GIT_ERROR_INVALID, "git upload-pack: deepen-not is not a ref: %s",
			      name);
		return -1;
	}
	return gg_oid_array_append(&data->deepen_not, &ref->oid);
}

int gg_upload_pack__parse_deepen_line(struct upload_pack_data *data, const char *line)
{
	unsigned long long n;
	const char *arg;
	git_oid oid;

	if (gg_skip_prefix(line, "shallow ", &arg)) {
		if (gg_parse_oid(&oid, arg, NULL) < 0) {
			git_error_set(GIT_ERROR_INVALID, "invalid shallow line: %s", line);
			return -1;
		}
		return gg_oid_array_append(&data->client_shallows, &oid) < 0 ? -1 : 1;
	}
	if (gg_skip_prefix(line, "deepen ", &arg)) {
		if (gg_parse_ullong(&n, arg) < 0 || n == 0) {
			git_error_set(GIT_ERROR_INVALID, "invalid deepen: %s", arg);
			return -1;
		}
		data->depth = n > GG_INFINITE_DEPTH ? GG_INFINITE_DEPTH : (uint32_t)n;
		return 1;
	}
	if (gg_skip_prefix(line, "deepen-since ", &arg)) {
		if (gg_parse_ullong(&n, arg) < 0 || n == 0 || n > INT64_MAX) {
			git_error_set(GIT_ERROR_INVALID, "invalid deepen-since: %s", line);
			return -1;
		}
		data->deepen_since = (int64_t)n;
		return 1;
	}
	if (gg_skip_prefix(line, "deepen-not ", &arg))
		return resolve_deepen_not(data, arg) < 0 ? -1 : 1;
	if (gg_skip_prefix(line, "filter ", &arg))
		return gg_filter_parse(&data->filter, arg) < 0 ? -1 : 1;
	return 0;
}

/*
 * Reads the want list up to its flush.  Returns 1 when the client hung up
 * or sent no want at all (nothing more to do), 0 when wants were read.
 */
static int receive_needs(struct upload_pack_data *data)
{
	struct gg_pkt_reader *r = data->reader;
	const char *arg;
	git_oid oid;
	int error;

	for (;;) {
		if (gg_pkt_read(r) < 0)
			return -1;
		if (r->type == GG_PKT_EOF) {
			if (!data->wants.nr)
				return 1;
			git_error_set_str(GIT_ERROR_NET, "client hung up during wants");
			return -1;
		}
		if (r->type == GG_PKT_FLUSH)
			break;
		if (r->type != GG_PKT_DATA)
			goto bad;
		if (gg_skip_prefix(r->line, "want ", &arg)) {
			const char *end;

			if (gg_parse_oid(&oid, arg, &end) < 0 || (*end && *end != ' '))
				goto bad;
			if (!data->wants.nr && *end == ' ')
				parse_v0_capabilities(data, end + 1);
			if (gg_oid_array_append(&data->wants, &oid) < 0)
				return -1;
			continue;
		}
		if ((error = gg_upload_pack__parse_deepen_line(data, r->line)) < 0)
			return -1;
		if (error == 0)
			goto bad;
	}
	return data->wants.nr ? 0 : 1;
bad:
	git_error_set(GIT_ERROR_NET,
		      "git upload-pack: protocol error, expected to get object ID, not '%s'",
		      r->line);
	return -1;
}

int gg_upload_pack__check_wants(struct upload_pack_data *data)
{
	git_oid refused;
	char hex[GIT_OID_HEXSZ + 1];
	int error = gg_check_wants(&refused, data->repo, &data->refs, &data->wants);

	if (error <= 0)
		return error;
	git_oid_tostr(hex, sizeof(hex), &refused);
	git_error_set(GIT_ERROR_INVALID, "upload-pack: not our ref %s", hex);
	return -1;
}

int gg_upload_pack__got_have(struct upload_pack_data *data, const git_oid *oid)
{
	struct gg_commit *c;
	uint32_t i;
	int error;

	/* Clients send many ids we lack: never rescan the pack directory for them. */
	if (!git_odb_exists_ext(data->odb, oid, GIT_ODB_LOOKUP_NO_REFRESH))
		return 0;
	error = gg_commit_graph_lookup(&c, &data->graph, oid, false);
	if (error == GIT_ENOTFOUND) {
		/* Not a commit: still common, and the pack leaves it out. */
		git_error_clear();
		return gg_oid_array_append(&data->common, oid) < 0 ? -1 : 1;
	}
	if (error < 0)
		return error;
	if (c->flags & THEY_HAVE)
		return 1;
	c->flags |= THEY_HAVE;
	if (!data->oldest_have || c->time < data->oldest_have)
		data->oldest_have = c->time;
	for (i = 0; i < c->nparents; i++)
		c->parents[i]->flags |= THEY_HAVE;
	return gg_oid_array_append(&data->common, oid) < 0 ? -1 : 1;
}

/* Does c reach a commit the client has, going no older than its oldest have? */
static int reaches_common(struct upload_pack_data *data, struct gg_commit *start, bool *found)
{
	struct gg_commit **stack = NULL, **visited = NULL;
	size_t nr = 0, alloc = 0, nvisited = 0, valloc = 0, i;
	int error = 0;

	*found = false;
	stack = malloc(sizeof(*stack) * (alloc = 64));
	visited = malloc(sizeof(*visited) * (valloc = 64));
	if (!stack || !visited)
		goto oom;
	stack[nr++] = start;
	start->flags |= VISITED;
	visited[nvisited++] = start;
	while (nr && !*found) {
		struct gg_commit *c = stack[--nr];
		uint32_t j;

		if (c->flags & THEY_HAVE) {
			*found = true;
			break;
		}
		if ((error = gg_commit_parse(&data->graph, c)) < 0)
			goto done;
		if (c->time < data->oldest_have)
			continue;
		for (j = 0; j < c->nparents; j++) {
			struct gg_commit *p = c->parents[j];

			if (p->flags & VISITED)
				continue;
			p->flags |= VISITED;
			if (nr == alloc) {
				struct gg_commit **s = realloc(stack, sizeof(*s) * (alloc *= 2));

				if (!s)
					goto oom;
				stack = s;
			}
			if (nvisited == valloc) {
				struct gg_commit **v = realloc(visited, sizeof(*v) * (valloc *= 2));

				if (!v)
					goto oom;
				visited = v;
			}
			stack[nr++] = p;
			visited[nvisited++] = p;
		}
	}
	goto done;
oom:
	git_error_set_oom();
	error = -1;
done:
	for (i = 0; i < nvisited; i++)
		visited[i]->flags &= ~VISITED;
	free(stack);
	free(visited);
	return error;
}

int gg_upload_pack__ok_to_give_up(struct upload_pack_data *data, bool *ok)
{
	size_t i;
	int error;

	*ok = false;
	if (!data->common.nr)
		return 0;
	for (i = 0; i < data->wants.nr; i++) {
		const git_oid *want = &data->wants.ids[i];
		struct gg_commit *c;
		bool found;

		if (gg_oidmap_contains(&data->wants_satisfied, want))
			continue;
		error = gg_commit_graph_lookup(&c, &data->graph, want, true);
		if (error == GIT_ENOTFOUND) {
			/* Not a commit: ancestry cannot tell, so do not wait for it. */
			git_error_clear();
			found = true;
		} else if (error < 0) {
			return error;
		} else if ((error = reaches_common(data, c, &found)) < 0) {
			return error;
		}
		if (!found)
			return 0;
		if (gg_oidset_add(&data->wants_satisfied, want) < 0)
			return -1;
	}
	*ok = true;
	return 0;
}

/* v0 negotiation (multi_ack_detailed, multi_ack or neither) up to "done". */
static int get_common_commits(struct upload_pack_data *data)
{
	struct gg_pkt_reader *r = data->reader;
	char last_hex[GIT_OID_HEXSZ + 1] = "";
	bool got_common = false, got_other = false, ready;
	const char *arg;
	git_oid oid;
	int error;

	for (;;) {
		if (gg_pkt_read(r) < 0)
			return -1;
		if (r->type == GG_PKT_EOF) {
			git_error_set_str(GIT_ERROR_NET, "client hung up during negotiation");
			return -1;
		}
		if (r->type == GG_PKT_FLUSH) {
			if (data->multi_ack == 2 && got_common && !got_other) {
				if ((error = gg_upload_pack__ok_to_give_up(data, &ready)) < 0)
					return error;
				if (ready &&
				    gg_pkt_printf(data->io, "ACK %s ready\n", last_hex) < 0)
					return -1;
			}
			if ((!data->common.nr || data->multi_ack) &&
			    gg_pkt_printf(data->io, "NAK\n") < 0)
				return -1;
			got_common = got_other = false;
			continue;
		}
		if (r->type == GG_PKT_DATA && gg_skip_prefix(r->line, "have ", &arg)) {
			if (gg_parse_oid(&oid, arg, NULL) < 0)
				goto bad;
			if ((error = gg_upload_pack__got_have(data, &oid)) < 0)
				return error;
			if (!error) {
				got_other = true;
				if (!data->multi_ack)
					continue;
				if ((error = gg_upload_pack__ok_to_give_up(data, &ready)) < 0)
					return error;
				if (ready &&
				    gg_pkt_printf(data->io, "ACK %s %s\n", arg,
						  data->multi_ack == 2 ? "ready" : "continue") < 0)
					return -1;
				continue;
			}
			got_common = true;
			git_oid_tostr(last_hex, sizeof(last_hex), &oid);
			if (data->multi_ack == 2)
				error = gg_pkt_printf(data->io, "ACK %s common\n", last_hex);
			else if (data->multi_ack)
				error = gg_pkt_printf(data->io, "ACK %s continue\n", last_hex);
			else if (data->common.nr == 1)
				error = gg_pkt_printf(data->io, "ACK %s\n", last_hex);
			if (error < 0)
				return -1;
			continue;
		}
		if (r->type == GG_PKT_DATA && !strcmp(r->line, "done")) {
			if (data->common.nr && data->multi_ack)
				return gg_pkt_printf(data->io, "ACK %s\n", last_hex);
			if (!data->common.nr)
				return gg_pkt_printf(data->io, "NAK\n");
			return 0;
		}
		goto bad;
	}
bad:
	git_error_set(GIT_ERROR_NET, "git upload-pack: expected SHA1 list, got '%s'", r->line);
	return -1;
}

bool gg_upload_pack__wants_deepen(const struct upload_pack_data *data)
{
	return data->depth || data->deepen_since || data->deepen_not.nr;
}

int gg_upload_pack__compute_shallow(struct upload_pack_data *data)
{
	struct gg_shallow_request req;

	if (!gg_upload_pack__wants_deepen(data))
		return gg_shallow_keep(&data->shallow, data->repo, &data->client_shallows);
	if (data->depth && (data->deepen_since || data->deepen_not.nr)) {
		git_error_set_str(GIT_ERROR_INVALID,
				  "git upload-pack: deepen and deepen-since (or deepen-not) cannot "
				  "be used together");
		return -1;
	}
	memset(&req, 0, sizeof(req));
	req.repo = data->repo;
	req.wants = &data->wants;
	req.client_shallows = &data->client_shallows;
	req.depth = data->depth;
	req.relative = data->deepen_relative;
	req.since = data->deepen_since;
	req.not_tips = &data->deepen_not;
	return gg_shallow_compute(&data->shallow, &req);
}

int gg_upload_pack__send_shallow_lines(struct upload_pack_data *data)
{
	char hex[GIT_OID_HEXSZ + 1];
	size_t i;

	for (i = 0; i < data->shallow.shallow.nr; i++) {
		git_oid_tostr(hex, sizeof(hex), &data->shallow.shallow.ids[i]);
		if (gg_pkt_printf(data->io, "shallow %s\n", hex) < 0)
			return -1;
	}
	for (i = 0; i < data->shallow.unshallow.nr; i++) {
		git_oid_tostr(hex, sizeof(hex), &data->shallow.unshallow.ids[i]);
		if (gg_pkt_printf(data->io, "unshallow %s\n", hex) < 0)
			return -1;
	}
	return 0;
}

int gg_upload_pack__send_pack(struct upload_pack_data *data)
{
	struct gg_oid_array wants = GG_OID_ARRAY_INIT;
	struct gg_walk_request req;
	struct gg_pack_send_options opts;
	size_t i;
	int error = -1;

	/* The parents of unshallowed commits are wanted too. */
	for (i = 0; i < data->wants.nr; i++)
		if (gg_oid_array_append(&wants, &data->wants.ids[i]) < 0)
			goto done;
	for (i = 0; i < data->shallow.extra_wants.nr; i++)
		if (gg_oid_array_append(&wants, &data->shallow.extra_wants.ids[i]) < 0)
			goto done;
	memset(&req, 0, sizeof(req));
	req.repo = data->repo;
	req.wants = &wants;
	req.haves = &data->common;
	req.shallow = data->shallow.boundary.count ? &data->shallow.boundary : NULL;
	req.edges = &data->shallow.edges;
	req.filter = data->filter;
	req.include_tags = data->include_tag ? &data->refs : NULL;
	memset(&opts, 0, sizeof(opts));
	opts.sideband = data->sideband;
	opts.progress = !data->no_progress;
	opts.threads = data->opts->pack_threads;
	opts.keepalive = data->opts->keepalive_seconds;
	opts.thin = data->thin_pack;
	error = gg_pack_send(&req, data->io, &opts);
done:
	gg_oid_array_clear(&wants);
	return error;
}

/* Tells the client why the session ends, before the pack has started. */
static void send_error(struct upload_pack_data *data)
{
	const git_error *e = git_error_last();

	gg_pkt_error(data->io, "%s", e && e->message ? e->message : "internal error");
}

static int serve_v0(struct upload_pack_data *data, int protocol_version)
{
	int error;

	if (protocol_version == 1 && gg_pkt_printf(data->io, "version 1\n") < 0)
		return -1;
	if ((error = send_advertisement(data)) < 0)
		return error;
	error = receive_needs(data);
	if (error > 0)
		return 0; /* ls-remote, or nothing to fetch */
	if (!error)
		error = gg_upload_pack__check_wants(data);
	if (!error)
		error = gg_upload_pack__compute_shallow(data);
	if (!error && gg_upload_pack__wants_deepen(data) &&
	    (error = gg_upload_pack__send_shallow_lines(data)) == 0)
		error = gg_pkt_flush(data->io);
	if (!error)
		error = get_common_commits(data);
	if (error < 0) {
		send_error(data);
		return error;
	}
	if ((error = gg_upload_pack__send_pack(data)) < 0)
		return error;
	return data->sideband ? gg_pkt_flush(data->io) : 0;
}

int gg_upload_pack(const char *repo_path, const struct gg_git_io *io, int protocol_version,
		   const struct gg_upload_pack_options *opts)
{
	struct upload_pack_data data;
	int error;

	upload_pack_data_init(&data, io, opts);
	/*
	 * Objects read for the walk are not hashed again (SHA-1DC), as git's
	 * pack-objects does not re-hash what it reads; the setting is the
	 * process's, and every session runs in a process of its own.
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	if ((error = git_repository_open_ext(&data.repo, repo_path, GIT_REPOSITORY_OPEN_NO_SEARCH,
					     NULL)) < 0 ||
	    (error = git_repository_odb(&data.odb, data.repo)) < 0)
		goto done;
	gg_commit_graph_init(&data.graph, data.repo);
	if (!(data.reader = malloc(sizeof(*data.reader)))) {
		git_error_set_oom();
		error = -1;
		goto done;
	}
	gg_pkt_reader_init(data.reader, io);
	if ((error = gg_ref_list_load(&data.refs, data.repo, data.opts->hide_ref, data.opts->ctx)) <
	    0)
		goto done;
	if (protocol_version == 2)
		error = gg_upload_pack__serve_v2(&data);
	else
		error = serve_v0(&data, protocol_version);
done:
	upload_pack_data_clear(&data);
	return error;
}
