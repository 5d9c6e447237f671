/*
 * receive_pack.c - serving pushes (gitprotocol-pack(5), "Pushing Data").
 *
 * In order: advertise refs; read "<old> <new> <ref>" commands and push
 * options; receive the pack into quarantine; check every command (ref
 * name, deleting the current branch, objects present and connected); ask
 * check_changes; move the objects in; move the refs by compare-and-swap,
 * all or none with "atomic"; report per ref.  Until the objects are moved
 * in, a refusal or a dropped connection leaves no trace in the repository.
 *
 * Nothing a client sends is held without a bound: the pack by the limits
 * of gg_pack_limits (serve.h options, refused as an unpack error as soon as
 * one is crossed), commands, ref names and push options by the MAX_*
 * below (the whole push refused, its pack read and dropped, so the client
 * gets its report).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connected.h"
#include "messages.h"
#include "oidmap.h"
#include "pack_recv.h"
#include "pktline.h"
#include "ref_list.h"
#include "serve.h"

#define CAPABILITIES                                                                               \
	"report-status report-status-v2 delete-refs side-band-64k quiet atomic ofs-delta "         \
	"push-options object-format=sha1"

#define MESSAGE_MAX 4096

/*
 * Bounds on what a client may send besides the pack.  A pkt-line holds at
 * most 65516 bytes (pktline.h); these keep a push from making us hold or
 * forward more than a real client ever needs.
 */
#define MAX_COMMANDS	      100000 /* ref updates in one push */
#define MAX_REFNAME	      1024   /* bytes of a ref name */
#define MAX_REFNAME_COMPONENT 255    /* bytes between slashes (a file name) */
#define MAX_PUSH_OPTIONS      100
#define MAX_PUSH_OPTION	      4096 /* bytes of one push option */

struct command {
	git_oid old_oid;
	git_oid new_oid;
	char *refname;
	const char *error; /* NULL while the command may still succeed */
};

struct receive_pack_data {
	git_repository *repo;
	const struct gg_git_io *io;
	const struct gg_receive_pack_options *opts;
	const char *agent;
	struct gg_pkt_reader *reader;
	struct gg_ref_list refs;

	struct command *commands;
	size_t ncommands, commands_alloc;
	char **push_options;
	size_t npush_options;

	/* What the client asked for. */
	bool report_status;
	bool report_status_v2;
	bool quiet;
	bool atomic;
	bool use_push_options;
	size_t sideband;

	struct gg_pack_limits limits;
	struct gg_quarantine quarantine;
	const char *push_error;	   /* a refusal of the whole push before its pack */
	const char *unpack_error;  /* NULL: "unpack ok" */
	char refusal[MESSAGE_MAX]; /* check_changes' reason, one line */
};

/* The options' limits, their defaults where they leave them 0. */
static void set_limits(struct gg_pack_limits *limits, const struct gg_receive_pack_options *opts)
{
	unsigned long objects =
	    opts->max_pack_objects ? opts->max_pack_objects : GG_RECEIVE_MAX_OBJECTS;

	limits->max_input_size = opts->max_input_size;
	limits->max_objects = objects > UINT32_MAX ? UINT32_MAX : (uint32_t)objects;
	limits->max_object_size =
	    opts->max_object_size ? opts->max_object_size : GG_RECEIVE_MAX_OBJECT_SIZE;
}

static void receive_pack_data_init(struct receive_pack_data *data, const struct gg_git_io *io,
				   const struct gg_receive_pack_options *opts)
{
	static const struct gg_receive_pack_options defaults;

	memset(data, 0, sizeof(*data));
	data->io = io;
	data->opts = opts ? opts : &defaults;
	data->agent = data->opts->agent ? data->opts->agent : GG_GIT_AGENT;
	set_limits(&data->limits, data->opts);
}

static void receive_pack_data_clear(struct receive_pack_data *data)
{
	size_t i;

	for (i = 0; i < data->ncommands; i++)
		free(data->commands[i].refname);
	free(data->commands);
	for (i = 0; i < data->npush_options; i++)
		free(data->push_options[i]);
	free(data->push_options);
	gg_quarantine_discard(&data->quarantine);
	gg_ref_list_clear(&data->refs);
	free(data->reader);
	git_repository_free(data->repo);
}

static bool is_delete(const struct command *cmd)
{
	return git_oid_is_zero(&cmd->new_oid);
}

/* One advertised ref; the first line carries the capabilities after a NUL. */
static int send_ref_line(struct receive_pack_data *data, const git_oid *oid, const char *name,
			 bool first)
{
	char hex[GIT_OID_HEXSZ + 1];
	struct gg_buf line = GG_BUF_INIT;
	int error = -1;

	git_oid_tostr(hex, sizeof(hex), oid);
	if (gg_buf_printf(&line, "%s %s", hex, name) < 0 ||
	    (first && (gg_buf_add(&line, "", 1) < 0 ||
		       gg_buf_printf(&line, "%s agent=%s", CAPABILITIES, data->agent) < 0)) ||
	    gg_buf_puts(&line, "\n") < 0) {
		git_error_set_oom();
		goto done;
	}
	error = gg_pkt_write(data->io, line.data, line.len);
done:
	gg_buf_clear(&line);
	return error;
}

static int send_advertisement(struct receive_pack_data *data)
{
	git_oid zero;
	size_t i;

	if (!data->refs.nr) {
		/* An empty repository still has to carry the capabilities. */
		memset(&zero, 0, sizeof(zero));
		if (send_ref_line(data, &zero, "capabilities^{}", true) < 0)
			return -1;
	}
	for (i = 0; i < data->refs.nr; i++)
		if (send_ref_line(data, &data->refs.refs[i].oid, data->refs.refs[i].name, i == 0) <
		    0)
			return -1;
	return gg_pkt_flush(data->io);
}

static void parse_capabilities(struct receive_pack_data *data, const char *caps)
{
	data->report_status = gg_has_capability(caps, "report-status", NULL, NULL);
	data->report_status_v2 = gg_has_capability(caps, "report-status-v2", NULL, NULL);
	data->quiet = gg_has_capability(caps, "quiet", NULL, NULL);
	data->atomic = gg_has_capability(caps, "atomic", NULL, NULL);
	data->use_push_options = gg_has_capability(caps, "push-options", NULL, NULL);
	if (gg_has_capability(caps, "side-band-64k", NULL, NULL))
		data->sideband = GG_SIDEBAND_MAX_DATA;
	else if (gg_has_capability(caps, "side-band", NULL, NULL))
		data->sideband = GG_SIDEBAND_SMALL_MAX_DATA;
}

/* Whether a ref name is longer than a ref can be (as a whole or as one file name). */
static bool refname_too_long(const char *name)
{
	size_t component = 0;

	if (strlen(name) > MAX_REFNAME)
		return true;
	for (; *name; name++) {
		component = *name == '/' ? 0 : component + 1;
		if (component > MAX_REFNAME_COMPONENT)
			return true;
	}
	return false;
}

static int add_command(struct receive_pack_data *data, const char *line, size_t len)
{
	struct command *cmd;
	const char *p = line;
	const char *nul = memchr(line, '\0', len);

	if (data->ncommands == MAX_COMMANDS) {
		/* The rest is read and dropped: the push fails as a whole. */
		data->push_error = GG_MSG_TOO_MANY_COMMANDS;
		return 0;
	}
	if (data->ncommands == data->commands_alloc) {
		size_t n = data->commands_alloc ? data->commands_alloc * 2 : 16;
		struct command *c = realloc(data->commands, n * sizeof(*c));

		if (!c) {
			git_error_set_oom();
			return -1;
		}
		data->commands = c;
		data->commands_alloc = n;
	}
	cmd = &data->commands[data->ncommands];
	memset(cmd, 0, sizeof(*cmd));
	if (gg_parse_oid(&cmd->old_oid, p, &p) < 0 || *p++ != ' ' ||
	    gg_parse_oid(&cmd->new_oid, p, &p) < 0 || *p++ != ' ' || !*p) {
		git_error_set(GIT_ERROR_NET, "protocol error: expected old/new/ref, got '%s'",
			      line);
		return -1;
	}
	if (!(cmd->refname = strdup(p))) {
		git_error_set_oom();
		return -1;
	}
	data->ncommands++;
	if (refname_too_long(cmd->refname))
		cmd->error = GG_MSG_REFNAME_TOO_LONG;
	/* Capabilities follow a NUL on the first command only; no NUL is anywhere else. */
	if (nul && data->ncommands == 1)
		parse_capabilities(data, nul + 1);
	else if (nul)
		data->push_error = GG_MSG_NUL_IN_COMMAND;
	return 0;
}

/* Returns 1 when the client sent no command (nothing to do). */
static int read_commands(struct receive_pack_data *data)
{
	struct gg_pkt_reader *r = data->reader;

	for (;;) {
		if (gg_pkt_read(r) < 0)
			return -1;
		if (r->type == GG_PKT_EOF) {
			if (!data->ncommands)
				return 1;
			git_error_set_str(GIT_ERROR_NET, "client hung up during commands");
			return -1;
		}
		if (r->type == GG_PKT_FLUSH)
			return data->ncommands ? 0 : 1;
		if (r->type != GG_PKT_DATA)
			goto bad;
		if (gg_skip_prefix(r->line, "shallow ", NULL))
			continue; /* a shallow pusher; connectivity decides */
		if (gg_skip_prefix(r->line, "push-cert", NULL)) {
			git_error_set_str(GIT_ERROR_NET, "signed pushes are not supported");
			return -1;
		}
		if (add_command(data, r->line, r->len) < 0)
			return -1;
	}
bad:
	git_error_set_str(GIT_ERROR_NET, "protocol error: unexpected packet in commands");
	return -1;
}

static int read_push_options(struct receive_pack_data *data)
{
	struct gg_pkt_reader *r = data->reader;
	size_t alloc = 0;

	for (;;) {
		if (gg_pkt_read(r) < 0)
			return -1;
		if (r->type == GG_PKT_FLUSH)
			return 0;
		if (r->type != GG_PKT_DATA) {
			git_error_set_str(GIT_ERROR_NET, "protocol error: bad push options");
			return -1;
		}
		/* Over a limit: read on to the flush, keep nothing more, refuse the push. */
		if (data->npush_options == MAX_PUSH_OPTIONS) {
			data->push_error = GG_MSG_TOO_MANY_PUSH_OPTIONS;
			continue;
		}
		if (r->len > MAX_PUSH_OPTION) {
			data->push_error = GG_MSG_PUSH_OPTION_TOO_LONG;
			continue;
		}
		if (memchr(r->line, '\0', r->len)) {
			data->push_error = GG_MSG_NUL_IN_PUSH_OPTION;
			continue;
		}
		if (data->npush_options == alloc) {
			size_t n = alloc ? alloc * 2 : 8;
			char **o = realloc(data->push_options, n * sizeof(*o));

			if (!o) {
				git_error_set_oom();
				return -1;
			}
			data->push_options = o;
			alloc = n;
		}
		if (!(data->push_options[data->npush_options] = strdup(r->line))) {
			git_error_set_oom();
			return -1;
		}
		data->npush_options++;
	}
}

/* A message for the client's terminal ("remote: ..."), when there is a side-band. */
static int send_message(struct receive_pack_data *data, const char *msg)
{
	size_t len = strlen(msg);
	int error;

	if (!data->sideband || !len)
		return 0;
	error = gg_sideband_write(data->io, GG_BAND_PROGRESS, msg, len, data->sideband);
	if (!error && msg[len - 1] != '\n')
		error = gg_sideband_write(data->io, GG_BAND_PROGRESS, "\n", 1, data->sideband);
	return error;
}

/*
 * A protocol error while reading what the client sent: tell it, on the
 * error band when it asked for a side-band, else as an ERR packet, the way
 * git's own programs die with "fatal: ...".  The reason stays in
 * git_error_last() for the caller's log.
 */
static void send_fatal(struct receive_pack_data *data)
{
	const git_error *e = git_error_last();
	char msg[512];

	snprintf(msg, sizeof(msg), "%s", e && e->message ? e->message : "protocol error");
	if (data->sideband) {
		char line[sizeof(msg) + 16];
		int n = snprintf(line, sizeof(line), "fatal: %s\n", msg);

		gg_sideband_write(data->io, GG_BAND_ERROR, line, (size_t)n, data->sideband);
	} else {
		gg_pkt_error(data->io, "%s", msg);
	}
	git_error_set_str(GIT_ERROR_NET, msg);
}

static bool needs_pack(const struct receive_pack_data *data)
{
	size_t i;

	for (i = 0; i < data->ncommands; i++)
		if (!is_delete(&data->commands[i]))
			return true;
	return false;
}

static void fail_remaining(struct receive_pack_data *data, const char *why)
{
	size_t i;

	for (i = 0; i < data->ncommands; i++)
		if (!data->commands[i].error)
			data->commands[i].error = why;
}

static bool any_failed(const struct receive_pack_data *data)
{
	size_t i;

	for (i = 0; i < data->ncommands; i++)
		if (data->commands[i].error)
			return true;
	return false;
}

/* The per-command checks that need no lock: name, policy, objects. */
static int check_command(struct receive_pack_data *data, struct command *cmd, bool connected)
{
	const struct gg_ref *head = &data->refs.head;
	int error, valid = 0;

	if (strncmp(cmd->refname, "refs/", 5) ||
	    git_reference_name_is_valid(&valid, cmd->refname) < 0 || !valid) {
		git_error_clear();
		cmd->error = "funny refname";
		return 0;
	}
	if (is_delete(cmd)) {
		const char *current = head->symref_target;

		if (current && !strcmp(current, cmd->refname))
			cmd->error = "deletion of the current branch prohibited";
		return 0;
	}
	if (connected)
		return 0;
	error = gg_check_connected(data->repo, data->quarantine.odb, &data->refs, &cmd->new_oid);
	if (error < 0)
		return error;
	if (error)
		cmd->error = "missing necessary objects";
	return 0;
}

static int format_changes(struct receive_pack_data *data, struct gg_buf *out)
{
	char old_hex[GIT_OID_HEXSZ + 1], new_hex[GIT_OID_HEXSZ + 1];
	size_t i;

	for (i = 0; i < data->ncommands; i++) {
		const struct command *cmd = &data->commands[i];

		if (cmd->error)
			continue;
		git_oid_tostr(old_hex, sizeof(old_hex), &cmd->old_oid);
		git_oid_tostr(new_hex, sizeof(new_hex), &cmd->new_oid);
		if (gg_buf_printf(out, "%s %s %s\n", old_hex, new_hex, cmd->refname) < 0) {
			git_error_set_oom();
			return -1;
		}
	}
	return 0;
}

/* Makes a message fit on one "ng <ref> <reason>" line. */
static void to_one_line(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	for (; *src && n + 1 < size; src++)
		dst[n++] = (*src == '\n' || *src == '\r' || *src == '\t') ? ' ' : *src;
	while (n && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

/* Asks the access check; on refusal every remaining command fails with its reason. */
static int ask_check_changes(struct receive_pack_data *data)
{
	struct gg_buf changes = GG_BUF_INIT;
	char *message = NULL;
	int error = 0;

	if (!data->opts->check_changes)
		return 0;
	if (format_changes(data, &changes) < 0)
		return -1;
	if (!changes.len)
		goto done;
	if (!(message = calloc(1, MESSAGE_MAX))) {
		git_error_set_oom();
		error = -1;
		goto done;
	}
	if (data->opts->check_changes(data->opts->ctx, changes.data, message, MESSAGE_MAX)) {
		message[MESSAGE_MAX - 1] = '\0';
		if (!*message)
			snprintf(message, MESSAGE_MAX, "push refused");
		to_one_line(data->refusal, sizeof(data->refusal), message);
		fail_remaining(data, data->refusal);
		error = send_message(data, message);
	}
done:
	free(message);
	gg_buf_clear(&changes);
	return error;
}

/* The value of refname now (zero when it does not exist). */
static int read_ref(git_oid *out, git_repository *repo, const char *refname)
{
	int error = git_reference_name_to_id(out, repo, refname);

	if (error == GIT_ENOTFOUND) {
		git_error_clear();
		memset(out, 0, sizeof(*out));
		return 0;
	}
	return error;
}

static const char *update_one(struct receive_pack_data *data, const struct command *cmd)
{
	git_reference *ref = NULL;
	const char *why = NULL;
	int error;

	if (is_delete(cmd)) {
		error = git_reference_lookup(&ref, data->repo, cmd->refname);
		if (error == GIT_ENOTFOUND) {
			git_error_clear();
			return NULL; /* already gone */
		}
		if (error < 0)
			return "failed to delete";
		if (git_reference_type(ref) != GIT_REFERENCE_DIRECT ||
		    !git_oid_equal(git_reference_target(ref), &cmd->old_oid))
			why = "failed to delete: stale info";
		else if (git_reference_delete(ref) < 0)
			why = "failed to delete";
	} else if (git_oid_is_zero(&cmd->old_oid)) {
		if (git_reference_create(&ref, data->repo, cmd->refname, &cmd->new_oid, 0, "push") <
		    0)
			why = "failed to update ref";
	} else if (git_reference_create_matching(&ref, data->repo, cmd->refname, &cmd->new_oid, 1,
						 &cmd->old_oid, "push") < 0) {
		why = "failed to update ref";
	}
	git_reference_free(ref);
	git_error_clear();
	return why;
}

static void update_each(struct receive_pack_data *data)
{
	size_t i;

	for (i = 0; i < data->ncommands; i++)
		if (!data->commands[i].error)
			data->commands[i].error = update_one(data, &data->commands[i]);
}

/*
 * All or nothing: lock every ref, compare each current value with what
 * the client saw (transactions do not), then commit.
 */
static void update_atomic(struct receive_pack_data *data)
{
	git_transaction *tx = NULL;
	const char *why = NULL;
	struct command *culprit = NULL;
	size_t i;

	if (git_transaction_new(&tx, data->repo) < 0) {
		why = "transaction failed to start";
		goto done;
	}
	for (i = 0; i < data->ncommands && !why; i++) {
		struct command *cmd = &data->commands[i];
		git_oid current;

		if (git_transaction_lock_ref(tx, cmd->refname) < 0) {
			why = "failed to lock";
		} else if (read_ref(&current, data->repo, cmd->refname) < 0 ||
			   !git_oid_equal(&current, &cmd->old_oid)) {
			/* A delete of a ref that is already gone is fine. */
			if (!(is_delete(cmd) && git_oid_is_zero(&current)))
				why = "failed to update ref: stale info";
		}
		if (why)
			culprit = cmd;
	}
	for (i = 0; i < data->ncommands && !why; i++) {
		struct command *cmd = &data->commands[i];
		git_oid current;

		if (is_delete(cmd)) {
			if (read_ref(&current, data->repo, cmd->refname) == 0 &&
			    !git_oid_is_zero(&current) &&
			    git_transaction_remove(tx, cmd->refname) < 0)
				why = "failed to delete", culprit = cmd;
		} else if (git_transaction_set_target(tx, cmd->refname, &cmd->new_oid, NULL,
						      "push") < 0) {
			why = "failed to update ref", culprit = cmd;
		}
	}
	if (!why && git_transaction_commit(tx) < 0)
		why = "failed to update refs";
done:
	git_transaction_free(tx);
	git_error_clear();
	if (why) {
		if (culprit)
			culprit->error = why;
		fail_remaining(data, "atomic push failure");
	}
}

static int send_report(struct receive_pack_data *data)
{
	struct gg_buf report = GG_BUF_INIT;
	size_t i;
	int error = -1;

	if (!data->report_status && !data->report_status_v2)
		return 0;
	if (gg_pkt_buf_printf(&report, "unpack %s\n",
			      data->unpack_error ? data->unpack_error : "ok") < 0)
		goto done;
	for (i = 0; i < data->ncommands; i++) {
		const struct command *cmd = &data->commands[i];

		if ((cmd->error ? gg_pkt_buf_printf(&report, "ng %s %s\n", cmd->refname, cmd->error)
				: gg_pkt_buf_printf(&report, "ok %s\n", cmd->refname)) < 0)
			goto done;
	}
	if (gg_pkt_buf_flush(&report) < 0)
		goto done;
	if (data->sideband)
		error = gg_sideband_write(data->io, GG_BAND_DATA, report.data, report.len,
					  data->sideband);
	else
		error = gg_io_write_all(data->io, report.data, report.len);
done:
	gg_buf_clear(&report);
	return error;
}

static int run_post_receive(struct receive_pack_data *data)
{
	struct gg_buf changes = GG_BUF_INIT;
	char *message = NULL;
	int error = 0;

	if (!data->opts->post_receive)
		return 0;
	if (format_changes(data, &changes) < 0)
		return -1;
	if (changes.len) {
		if (!(message = calloc(1, MESSAGE_MAX))) {
			git_error_set_oom();
			error = -1;
			goto done;
		}
		data->opts->post_receive(data->opts->ctx, changes.data,
					 (const char *const *)data->push_options,
					 data->npush_options, message, MESSAGE_MAX);
		message[MESSAGE_MAX - 1] = '\0';
		error = send_message(data, message);
	}
done:
	free(message);
	gg_buf_clear(&changes);
	return error;
}

static bool any_succeeded(const struct receive_pack_data *data)
{
	size_t i;

	for (i = 0; i < data->ncommands; i++)
		if (!data->commands[i].error)
			return true;
	return false;
}

/*
 * Whether every new tip is connected, in one walk: a push of many refs
 * (a mirror, all tags) shares its history, and walking it once per ref
 * costs as many walks.  Only when this fails is each ref checked alone, to
 * say which one is missing objects.  1: all connected.
 */
static int all_connected(struct receive_pack_data *data)
{
	git_oid *tips;
	size_t i, n = 0;
	int error;

	if (!(tips = calloc(data->ncommands ? data->ncommands : 1, sizeof(*tips)))) {
		git_error_set_oom();
		return -1;
	}
	for (i = 0; i < data->ncommands; i++) {
		const struct command *cmd = &data->commands[i];

		if (!cmd->error && !is_delete(cmd))
			git_oid_cpy(&tips[n++], &cmd->new_oid);
	}
	error = gg_check_connected_all(data->repo, data->quarantine.odb, &data->refs, tips, n);
	free(tips);
	return error < 0 ? error : !error;
}

static int execute_commands(struct receive_pack_data *data)
{
	size_t i;
	int error, connected;

	if ((connected = all_connected(data)) < 0)
		return connected;
	for (i = 0; i < data->ncommands; i++)
		if ((error = check_command(data, &data->commands[i], connected)) < 0)
			return error;
	if (data->atomic && any_failed(data))
		fail_remaining(data, "atomic push failure");
	if ((error = ask_check_changes(data)) < 0)
		return error;
	if (!any_succeeded(data))
		return 0;
	if (gg_quarantine_migrate(&data->quarantine, data->repo) < 0) {
		data->unpack_error = "unable to migrate objects to permanent storage";
		fail_remaining(data, "unable to migrate objects to permanent storage");
		return 0;
	}
	if (data->atomic)
		update_atomic(data);
	else
		update_each(data);
	if (!any_succeeded(data))
		gg_quarantine_unmigrate(&data->quarantine);
	return 0;
}

/*
 * Refuses the whole push: every ref fails with why (or, when the pack could
 * not be read, "unpacker error" with why as the unpack status), the client
 * is told, and -1 returns with why in git_error_last().  why NULL: the pack
 * was broken, the reason is in git_error_last() already.
 */
static int refuse_push(struct receive_pack_data *data, const char *why, bool unpack)
{
	const git_error *e = git_error_last();
	char reason[512];

	snprintf(reason, sizeof(reason), "%s",
		 why		   ? why
		 : e && e->message ? e->message
				   : "index-pack failed");
	if (unpack) {
		data->unpack_error = why ? why : "index-pack failed";
		fail_remaining(data, "unpacker error");
	} else {
		fail_remaining(data, why);
	}
	if (why) {
		char line[sizeof(reason) + 16];

		snprintf(line, sizeof(line), "fatal: %s\n", why);
		send_message(data, line);
	}
	send_report(data);
	if (data->sideband)
		gg_pkt_flush(data->io);
	git_error_set_str(GIT_ERROR_NET, reason);
	return -1;
}

int gg_receive_pack(const char *repo_path, const struct gg_git_io *io,
		    const struct gg_receive_pack_options *opts)
{
	struct receive_pack_data data;
	int error;

	receive_pack_data_init(&data, io, opts);
	/*
	 * Objects read back are not hashed again, as git does not: the
	 * indexer hashed every object of the pack, and re-hashing each tree
	 * and commit the connectivity walk opens (SHA-1DC) cost a quarter of
	 * that walk on a large push.  The setting is the process's; every
	 * session runs in a process of its own.
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	/*
	 * Nor are they kept in libgit2's object cache: the connectivity walk
	 * reads each new tree about twice, and a cache of up to 256 MB made a
	 * push of a 180 MB pack peak at 522 MB of heap where it now peaks at
	 * 95 MB, in the same time (bench/run largepush: 1.26 either way).
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 0);
	if ((error = git_repository_open_ext(&data.repo, repo_path, GIT_REPOSITORY_OPEN_NO_SEARCH,
					     NULL)) < 0)
		goto done;
	if (!(data.reader = malloc(sizeof(*data.reader)))) {
		git_error_set_oom();
		error = -1;
		goto done;
	}
	gg_pkt_reader_init(data.reader, io);
	if ((error = gg_ref_list_load(&data.refs, data.repo, NULL, NULL)) < 0 ||
	    (error = send_advertisement(&data)) < 0)
		goto done;
	if ((error = read_commands(&data)) != 0) {
		if (error < 0)
			send_fatal(&data);
		error = error > 0 ? 0 : error;
		goto done;
	}
	if (data.use_push_options && (error = read_push_options(&data)) < 0) {
		send_fatal(&data);
		goto done;
	}
	if (needs_pack(&data)) {
		/* A push refused already only needs its pack read to its end. */
		error = data.push_error ? gg_pack_drain(&data.quarantine, data.reader, &data.limits)
					: gg_pack_receive(&data.quarantine, data.repo, data.reader,
							  &data.limits, NULL, NULL);
		if (error < 0) {
			/* The client may be gone; report if it is still there. */
			error = refuse_push(&data, data.quarantine.refusal, true);
			goto done;
		}
	}
	if (data.push_error) {
		error = refuse_push(&data, data.push_error, false);
		goto done;
	}
	if ((error = execute_commands(&data)) < 0)
		goto done;
	if (any_succeeded(&data) && (error = run_post_receive(&data)) < 0)
		goto done;
	if ((error = send_report(&data)) < 0)
		goto done;
	if (data.sideband)
		error = gg_pkt_flush(io);
done:
	receive_pack_data_clear(&data);
	return error;
}
