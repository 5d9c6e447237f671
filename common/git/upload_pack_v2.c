/*
 * upload_pack_v2.c - protocol v2 (gitprotocol-v2(5)): a capability
 * advertisement, then commands ("ls-refs", "fetch"), each a list of
 * capabilities, a delimiter, arguments and a flush.  Every command is
 * stateless: a fetch request carries all the wants and the haves of its
 * round, and the server answers with acknowledgments until it is ready,
 * then with the shallow-info and packfile sections.
 */
#include <stdlib.h>
#include <string.h>

#include "upload_pack.h"

#define MAX_REF_PREFIXES 65536

struct ls_refs_args {
	bool symrefs;
	bool peel;
	bool unborn;
	bool all_refs;		/* too many prefixes: serve every ref, as the protocol allows */
	struct gg_buf prefixes; /* NUL-terminated prefixes, one after the other */
	size_t nprefixes;
};

static void ls_refs_args_clear(struct ls_refs_args *a)
{
	gg_buf_clear(&a->prefixes);
	memset(a, 0, sizeof(*a));
}

static int add_prefix(struct ls_refs_args *a, const char *prefix)
{
	if (a->all_refs)
		return 0;
	if (a->nprefixes >= MAX_REF_PREFIXES) {
		a->all_refs = true;
		return 0;
	}
	if (gg_buf_add(&a->prefixes, prefix, strlen(prefix) + 1) < 0) {
		git_error_set_oom();
		return -1;
	}
	a->nprefixes++;
	return 0;
}

static bool matches_prefix(const struct ls_refs_args *a, const char *name)
{
	const char *p = a->prefixes.data;
	size_t i;

	if (!a->nprefixes || a->all_refs)
		return true;
	for (i = 0; i < a->nprefixes; i++, p += strlen(p) + 1)
		if (!strncmp(name, p, strlen(p)))
			return true;
	return false;
}

static int send_ls_ref(struct upload_pack_data *data, const struct ls_refs_args *a,
		       const struct gg_ref *ref, const char *name)
{
	char hex[GIT_OID_HEXSZ + 1], peeled[GIT_OID_HEXSZ + 1];
	struct gg_buf line = GG_BUF_INIT;
	int error = -1;

	git_oid_tostr(hex, sizeof(hex), &ref->oid);
	if (gg_buf_printf(&line, "%s %s", hex, name) < 0 ||
	    (a->symrefs && ref->symref_target &&
	     gg_buf_printf(&line, " symref-target:%s", ref->symref_target) < 0))
		goto oom;
	if (a->peel && ref->is_tag) {
		git_oid_tostr(peeled, sizeof(peeled), &ref->peeled);
		if (gg_buf_printf(&line, " peeled:%s", peeled) < 0)
			goto oom;
	}
	if (gg_buf_puts(&line, "\n") < 0)
		goto oom;
	error = gg_pkt_write(data->io, line.data, line.len);
	goto done;
oom:
	git_error_set_oom();
done:
	gg_buf_clear(&line);
	return error;
}

static int ls_refs(struct upload_pack_data *data, bool has_args)
{
	struct gg_pkt_reader *r = data->reader;
	struct ls_refs_args a;
	const char *arg;
	size_t i;
	int error = -1;

	memset(&a, 0, sizeof(a));
	while (has_args) {
		if (gg_pkt_read(r) < 0)
			goto done;
		if (r->type == GG_PKT_FLUSH)
			break;
		if (r->type != GG_PKT_DATA)
			goto bad;
		if (!strcmp(r->line, "symrefs"))
			a.symrefs = true;
		else if (!strcmp(r->line, "peel"))
			a.peel = true;
		else if (!strcmp(r->line, "unborn"))
			a.unborn = true;
		else if (gg_skip_prefix(r->line, "ref-prefix ", &arg)) {
			if (add_prefix(&a, arg) < 0)
				goto done;
		} else
			goto bad;
	}
	if (matches_prefix(&a, "HEAD")) {
		const struct gg_ref *head = &data->refs.head;

		if (head->name) {
			if (send_ls_ref(data, &a, head, "HEAD") < 0)
				goto done;
		} else if (a.unborn && data->refs.head_unborn) {
			if (a.symrefs)
				error = gg_pkt_printf(data->io, "unborn HEAD symref-target:%s\n",
						      head->symref_target);
			else
				error = gg_pkt_printf(data->io, "unborn HEAD\n");
			if (error < 0)
				goto done;
			error = -1;
		}
	}
	for (i = 0; i < data->refs.nr; i++) {
		const struct gg_ref *ref = &data->refs.refs[i];

		if (matches_prefix(&a, ref->name) && send_ls_ref(data, &a, ref, ref->name) < 0)
			goto done;
	}
	error = gg_pkt_flush(data->io);
	goto done;
bad:
	git_error_set(GIT_ERROR_NET, "unexpected line: '%s'", r->line);
done:
	ls_refs_args_clear(&a);
	return error;
}

/* Reads the arguments of a fetch command up to its flush. */
static int parse_fetch_args(struct upload_pack_data *data, bool has_args,
			    struct gg_oid_array *haves)
{
	struct gg_pkt_reader *r = data->reader;
	const char *arg;
	git_oid oid;
	int error;

	while (has_args) {
		if (gg_pkt_read(r) < 0)
			return -1;
		if (r->type == GG_PKT_FLUSH)
			return 0;
		if (r->type != GG_PKT_DATA)
			goto bad;
		if (gg_skip_prefix(r->line, "want ", &arg)) {
			if (gg_parse_oid(&oid, arg, NULL) < 0 ||
			    gg_oid_array_append(&data->wants, &oid) < 0)
				goto bad;
		} else if (gg_skip_prefix(r->line, "have ", &arg)) {
			if (gg_parse_oid(&oid, arg, NULL) < 0 ||
			    gg_oid_array_append(haves, &oid) < 0)
				goto bad;
		} else if (!strcmp(r->line, "done")) {
			data->done = true;
		} else if (!strcmp(r->line, "thin-pack")) {
			data->thin_pack = true;
		} else if (!strcmp(r->line, "ofs-delta")) {
			/* Our packs use REF_DELTA only. */
		} else if (!strcmp(r->line, "no-progress")) {
			data->no_progress = true;
		} else if (!strcmp(r->line, "include-tag")) {
			data->include_tag = true;
		} else if (!strcmp(r->line, "deepen-relative")) {
			data->deepen_relative = true;
		} else if (!strcmp(r->line, "wait-for-done")) {
			data->wait_for_done = true;
		} else if ((error = gg_upload_pack__parse_deepen_line(data, r->line)) != 0) {
			if (error < 0)
				return -1;
		} else {
			goto bad;
		}
	}
	return 0;
bad:
	git_error_set(GIT_ERROR_NET, "unexpected line: '%s'", r->line);
	return -1;
}

/*
 * The acknowledgments section.  *ready tells whether the packfile follows
 * in this response.
 */
static int send_acknowledgments(struct upload_pack_data *data, const struct gg_oid_array *common,
				bool *ready)
{
	char hex[GIT_OID_HEXSZ + 1];
	size_t i;
	int error;

	*ready = false;
	if (gg_pkt_printf(data->io, "acknowledgments\n") < 0)
		return -1;
	if (!common->nr && gg_pkt_printf(data->io, "NAK\n") < 0)
		return -1;
	for (i = 0; i < common->nr; i++) {
		git_oid_tostr(hex, sizeof(hex), &common->ids[i]);
		if (gg_pkt_printf(data->io, "ACK %s\n", hex) < 0)
			return -1;
	}
	if (!data->wait_for_done && (error = gg_upload_pack__ok_to_give_up(data, ready)) < 0)
		return error;
	if (*ready)
		return gg_pkt_printf(data->io, "ready\n") < 0 ? -1 : gg_pkt_delim(data->io);
	return gg_pkt_flush(data->io);
}

static int fetch(struct upload_pack_data *data, bool has_args)
{
	struct gg_oid_array haves = GG_OID_ARRAY_INIT, acked = GG_OID_ARRAY_INIT;
	bool ready = false;
	size_t i;
	int error;

	gg_upload_pack__reset_request(data);
	data->sideband = GG_SIDEBAND_MAX_DATA;
	if ((error = parse_fetch_args(data, has_args, &haves)) < 0 ||
	    (error = gg_upload_pack__check_wants(data)) < 0)
		goto fail;
	for (i = 0; i < haves.nr; i++) {
		if ((error = gg_upload_pack__got_have(data, &haves.ids[i])) < 0)
			goto fail;
		if (error && (error = gg_oid_array_append(&acked, &haves.ids[i])) < 0)
			goto fail;
	}
	if (!data->done) {
		if ((error = send_acknowledgments(data, &acked, &ready)) < 0 || !ready)
			goto done;
	}
	if (!data->wants.nr) {
		/* Nothing wanted: the response has no packfile section. */
		error = gg_pkt_flush(data->io);
		goto done;
	}
	if ((error = gg_upload_pack__compute_shallow(data)) < 0)
		goto fail;
	if (gg_upload_pack__wants_deepen(data) || data->client_shallows.nr) {
		if ((error = gg_pkt_printf(data->io, "shallow-info\n")) < 0 ||
		    (error = gg_upload_pack__send_shallow_lines(data)) < 0 ||
		    (error = gg_pkt_delim(data->io)) < 0)
			goto done;
	}
	if ((error = gg_pkt_printf(data->io, "packfile\n")) < 0 ||
	    (error = gg_upload_pack__send_pack(data)) < 0)
		goto done;
	error = gg_pkt_flush(data->io);
	goto done;
fail:
	gg_pkt_error(data->io, "%s",
		     git_error_last() && git_error_last()->message ? git_error_last()->message
								   : "internal error");
done:
	gg_oid_array_clear(&haves);
	gg_oid_array_clear(&acked);
	return error;
}

static int send_capabilities(struct upload_pack_data *data)
{
	if (gg_pkt_printf(data->io, "version 2\n") < 0 ||
	    gg_pkt_printf(data->io, "agent=%s\n", data->agent) < 0 ||
	    gg_pkt_printf(data->io, "ls-refs=unborn\n") < 0 ||
	    gg_pkt_printf(data->io, "fetch=shallow wait-for-done filter\n") < 0 ||
	    gg_pkt_printf(data->io, "server-option\n") < 0 ||
	    gg_pkt_printf(data->io, "object-format=sha1\n") < 0)
		return -1;
	return gg_pkt_flush(data->io);
}

/*
 * Reads "command=<name>" and the capability lines after it.  *command is
 * empty when the client ended the session.  *has_args tells whether a
 * delimiter (and so arguments) follows.
 */
static int read_command(struct upload_pack_data *data, char *command, size_t size, bool *has_args)
{
	struct gg_pkt_reader *r = data->reader;
	const char *arg;

	command[0] = '\0';
	*has_args = false;
	if (gg_pkt_read(r) < 0)
		return -1;
	if (r->type == GG_PKT_EOF || r->type == GG_PKT_FLUSH)
		return 0;
	if (r->type != GG_PKT_DATA || !gg_skip_prefix(r->line, "command=", &arg) ||
	    strlen(arg) >= size) {
		git_error_set(GIT_ERROR_NET, "protocol error: expected a command, got '%s'",
			      r->line);
		return -1;
	}
	memcpy(command, arg, strlen(arg) + 1);
	for (;;) {
		if (gg_pkt_read(r) < 0)
			return -1;
		if (r->type == GG_PKT_DELIM) {
			*has_args = true;
			return 0;
		}
		if (r->type == GG_PKT_FLUSH)
			return 0;
		if (r->type != GG_PKT_DATA) {
			git_error_set_str(GIT_ERROR_NET,
					  "protocol error: unexpected end of request");
			return -1;
		}
		if (gg_skip_prefix(r->line, "object-format=", &arg) && strcmp(arg, "sha1")) {
			git_error_set(GIT_ERROR_NET, "unsupported object format '%s'", arg);
			return -1;
		}
		/* agent=, server-option=, session-id= and the like: informative only. */
	}
}

int gg_upload_pack__serve_v2(struct upload_pack_data *data)
{
	char command[64];
	bool has_args;
	int error;

	if ((error = send_capabilities(data)) < 0)
		return error;
	for (;;) {
		if (read_command(data, command, sizeof(command), &has_args) < 0)
			goto fail;
		if (!command[0])
			return 0;
		if (!strcmp(command, "ls-refs")) {
			error = ls_refs(data, has_args);
		} else if (!strcmp(command, "fetch")) {
			error = fetch(data, has_args);
		} else {
			git_error_set(GIT_ERROR_NET, "invalid command '%s'", command);
			goto fail;
		}
		if (error < 0)
			return error;
	}
fail:
	gg_pkt_error(data->io, "%s",
		     git_error_last() && git_error_last()->message ? git_error_last()->message
								   : "internal error");
	return -1;
}
