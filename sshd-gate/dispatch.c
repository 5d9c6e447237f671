/*
 * dispatch.c - see dispatch.h.
 */
#include "dispatch.h"

#include <git2.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "command.h"
#include "log.h"
#include "messages.h"
#include "metrics.h"
#include "git/pack_reuse.h"
#include "util.h"

/* State of one push, shared by the two receive-pack callbacks. */
struct push_state {
	const struct gg_dispatch *d;
	const char *project;
	const char *gl_repository;
	const char *gl_id;
	bool counted;	/* pre_receive increased gate-api's reference counter */
	bool uncounted; /* post_receive decreased it again */
	bool refused;	/* the second check said no */
};

static int write_all(ssize_t (*fn)(void *, const void *, size_t), void *ctx, const char *buf,
		     size_t len)
{
	while (len > 0) {
		ssize_t n = fn(ctx, buf, len);

		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Each line of message as a "remote: " line on stderr. */
static void print_remote_lines(struct gg_buf *b, const char *message)
{
	const char *p = message;

	do {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		gg_buf_puts(b, "remote: ");
		gg_buf_add(b, p, n);
		gg_buf_puts(b, "\n");
		p = nl ? nl + 1 : NULL;
	} while (p && *p);
}

void gg_dispatch_print_box(const struct gg_dispatch *d, const char *message)
{
	struct gg_buf b = GG_BUF_INIT;

	gg_buf_puts(&b, "remote: \nremote: " GG_DISPATCH_RULER "\nremote: \n");
	print_remote_lines(&b, message);
	gg_buf_puts(&b, "remote: \nremote: " GG_DISPATCH_RULER "\nremote: \n");
	if (b.data)
		(void)write_all(d->write_err, d->io.ctx, b.data, b.len);
	gg_buf_clear(&b);
}

/* gate-api's announcements (an upcoming maintenance window, ...). */
static void print_console_messages(const struct gg_dispatch *d, const struct gg_api_allowed *a)
{
	struct gg_buf b = GG_BUF_INIT;

	if (a->n_console_messages == 0)
		return;
	for (size_t i = 0; i < a->n_console_messages; i++)
		print_remote_lines(&b, a->console_messages[i]);
	if (b.data)
		(void)write_all(d->write_err, d->io.ctx, b.data, b.len);
	gg_buf_clear(&b);
}

int gg_dispatch_protocol_version(const char *git_protocol)
{
	/* A colon-separated list of key=value; the highest version wins. */
	const char *p = git_protocol;
	int version = 0;

	while (p && *p) {
		if (strncmp(p, "version=", 8) == 0 && (p[8] == '1' || p[8] == '2') &&
		    (p[9] == '\0' || p[9] == ':') && p[8] - '0' > version)
			version = p[8] - '0';
		p = strchr(p, ':');
		if (p)
			p++;
	}
	return version;
}

/* Who asks gate-api: the key, or the user gate-shell was named for. */
static void set_identity(const struct gg_dispatch *d, struct gg_api_allowed_request *req,
			 char key_id[24])
{
	if (d->key_id > 0) {
		snprintf(key_id, 24, "%" PRId64, d->key_id);
		req->key_id = key_id;
	} else {
		req->username = d->username;
	}
}

static int welcome(const struct gg_dispatch *d)
{
	struct gg_api_user user;
	char *line = NULL;
	int rc, status = GG_EXIT_OK;

	rc = gg_api_discover(d->api, d->key_id > 0 ? d->key_id : 0,
			     d->key_id > 0 ? NULL : d->username, &user);
	if (rc == GG_API_OK)
		line = gg_strdup_printf(GG_MSG_WELCOME_FMT "\n", user.username);
	else if (rc == GG_API_ENOTFOUND)
		line = gg_strdup_printf("%s\n", GG_MSG_WELCOME_ANONYMOUS);
	if (line == NULL) {
		gg_error("discover key-%" PRId64 ": %s", d->key_id, gg_api_client_error(d->api));
		gg_dispatch_print_box(d, GG_MSG_API_UNREACHABLE);
		status = GG_EXIT_DENIED;
		goto done;
	}
	gg_info("welcome key-%" PRId64 " @%s", d->key_id, rc == GG_API_OK ? user.username : "");
	(void)write_all(d->io.write, d->io.ctx, line, strlen(line));
done:
	free(line);
	gg_api_user_clear(&user);
	return status;
}

/*
 * The repository on disk: <storage_root>/<relative_path>.  gate-api is
 * trusted, but a path that climbs out of the storage root is refused anyway,
 * and so is one that leaves it through a symbolic link (the repository or a
 * namespace directory being a link to elsewhere): the real path must lie
 * under the storage root's real path.
 */
static char *repository_path(const struct gg_dispatch *d, const struct gg_api_allowed *a)
{
	const char *rel = a->relative_path;
	char *fallback = NULL, *path = NULL, *root_real = NULL, *real = NULL;
	size_t n;

	if (rel == NULL && a->gl_project_path != NULL)
		rel = fallback = gg_strdup_printf("%s.git", a->gl_project_path);
	if (rel == NULL || rel[0] == '\0' || rel[0] == '/' || strstr(rel, "..") != NULL ||
	    d->cfg->storage_root == NULL)
		goto done;
	path = gg_strdup_printf("%s/%s", d->cfg->storage_root, rel);
	root_real = realpath(d->cfg->storage_root, NULL);
	real = path ? realpath(path, NULL) : NULL;
	n = root_real ? strlen(root_real) : 0;
	if (!root_real || !real || strncmp(real, root_real, n) != 0 || real[n] != '/') {
		gg_warn("repository %s is missing or outside the storage root", rel);
		free(path);
		path = NULL;
	}
done:
	free(real);
	free(root_real);
	free(fallback);
	return path;
}

/* /internal/allowed, timed for the latency histogram; a denial is counted by reason. */
static int ask_allowed(const struct gg_dispatch *d, const struct gg_api_allowed_request *req,
		       struct gg_api_allowed *a)
{
	struct timespec t0, t1;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = gg_api_allowed(d->api, req, a);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	gg_metrics_allowed_latency((double)(t1.tv_sec - t0.tv_sec) +
				   (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (rc != GG_API_OK) {
		gg_metrics_refusal(GG_REFUSAL_UNREACHABLE);
	} else if (!a->allowed) {
		bool maintenance = a->message && strncmp(a->message, GG_MSG_MAINTENANCE_PUSH,
							 strlen(GG_MSG_MAINTENANCE_PUSH)) == 0;

		if (maintenance)
			gg_metrics_maintenance_seen(true);
		gg_metrics_refusal(maintenance ? GG_REFUSAL_MAINTENANCE : GG_REFUSAL_DENIED);
	} else if (strcmp(req->action, "git-receive-pack") == 0) {
		gg_metrics_maintenance_seen(false);
	}
	return rc;
}

static int check_changes(void *ctx, const char *changes, char *message, size_t msglen)
{
	struct push_state *ps = ctx;
	const struct gg_dispatch *d = ps->d;
	struct gg_api_allowed a;
	char key_id[24];
	struct gg_api_allowed_request req = {
	    .action = "git-receive-pack",
	    .project = ps->project,
	    .changes = changes,
	    .check_ip = d->check_ip,
	    .git_protocol = d->git_protocol,
	};
	int rc;

	set_identity(d, &req, key_id);
	rc = ask_allowed(d, &req, &a);
	if (rc != GG_API_OK) {
		gg_error("second check of %s: %s", ps->project, gg_api_client_error(d->api));
		snprintf(message, msglen, "%s", GG_MSG_API_UNREACHABLE);
		ps->refused = true;
		goto done;
	}
	if (!a.allowed) {
		gg_info("push to %s refused at the second check: %s", ps->project, a.message);
		snprintf(message, msglen, "%s", a.message);
		ps->refused = true;
		goto done;
	}
done:
	gg_api_allowed_clear(&a);
	return ps->refused ? 1 : 0;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* GitLab frames an "alert" like a refusal and shows a "basic" message as is. */
static void append_post_receive_message(struct gg_buf *b, const struct gg_api_message *m)
{
	if (strcmp(m->type, "alert") == 0)
		gg_buf_printf(b, "\n%s\n\n%s\n\n%s\n\n", GG_DISPATCH_RULER, m->message,
			      GG_DISPATCH_RULER);
	else
		gg_buf_printf(b, "%s\n", m->message);
}

static void post_receive(void *ctx, const char *changes, const char *const *push_options,
			 size_t n_push_options, char *message, size_t msglen)
{
	struct push_state *ps = ctx;
	struct gg_api_post_receive pr;
	struct gg_buf b = GG_BUF_INIT;

	if (ps->gl_repository == NULL || ps->gl_id == NULL)
		return;
	if (gg_api_post_receive(ps->d->api, ps->gl_repository, ps->gl_id, changes, push_options,
				n_push_options, &pr) != GG_API_OK) {
		gg_warn("post_receive %s: %s", ps->gl_repository, gg_api_client_error(ps->d->api));
		return;
	}
	ps->uncounted = true;
	gg_info("post_receive %s: %zu ref changes, %zu push options", ps->gl_repository,
		count_lines(changes), n_push_options);
	for (size_t i = 0; i < pr.n_messages; i++)
		append_post_receive_message(&b, &pr.messages[i]);
	if (b.data)
		snprintf(message, msglen, "%s", b.data);
	gg_buf_clear(&b);
	gg_api_post_receive_clear(&pr);
}

static int serve(const struct gg_dispatch *d, const struct gg_command *cmd,
		 const struct gg_api_allowed *a)
{
	struct push_state ps = {d, cmd->project, a->gl_repository, a->gl_id, false, false, false};
	char *repo = repository_path(d, a);
	int error = -1, status;

	if (repo == NULL) {
		gg_error("no usable repository path for %s from gate-api", cmd->project);
		gg_dispatch_print_box(d, GG_MSG_REPOSITORY_UNAVAILABLE);
		return GG_EXIT_DENIED;
	}
	git_libgit2_init();
	switch (cmd->kind) {
	case GG_CMD_UPLOAD_PACK: {
		struct gg_upload_pack_options opts = {0};

		error = gg_upload_pack(repo, &d->io, gg_dispatch_protocol_version(d->git_protocol),
				       &opts);
		break;
	}
	case GG_CMD_RECEIVE_PACK: {
		struct gg_receive_pack_options opts = {0};

		opts.check_changes = check_changes;
		opts.post_receive = post_receive;
		opts.ctx = &ps;
		opts.max_input_size = d->cfg->git_max_input_size;
		opts.max_pack_objects = d->cfg->git_max_pack_objects;
		opts.max_object_size = d->cfg->git_max_object_size;
		/* The write is in flight (drain) from here until post_receive, on every
		 * path: pre_receive before the first byte of the pack is read. */
		if (ps.gl_repository &&
		    gg_api_pre_receive(d->api, ps.gl_repository, ps.gl_id) != GG_API_OK) {
			gg_error("pre_receive %s: %s", ps.gl_repository,
				 gg_api_client_error(d->api));
			gg_metrics_refusal(GG_REFUSAL_UNREACHABLE);
			gg_dispatch_print_box(d, GG_MSG_API_UNREACHABLE);
			ps.refused = true;
			error = 0;
			break;
		}
		ps.counted = ps.gl_repository != NULL;
		gg_metrics_push_begin();
		error = gg_receive_pack(repo, &d->io, &opts);
		gg_metrics_push_end();
		if (error == 0 && !ps.refused)
			gg_pack_maintain_spawn(repo); /* pack records, in the background */
		break;
	}
	case GG_CMD_UPLOAD_ARCHIVE:
		error = gg_upload_archive(repo, &d->io, NULL);
		break;
	case GG_CMD_WELCOME:
		break;
	}
	if (error < 0) {
		const git_error *e = git_error_last();

		gg_warn("%s %s: %s", gg_command_action(cmd->kind), repo,
			e && e->message ? e->message : "failed");
	}
	/* A push that was counted in must be counted out, whatever happened. */
	if (ps.counted && !ps.uncounted) {
		struct gg_api_post_receive pr;

		if (gg_api_post_receive(d->api, ps.gl_repository, ps.gl_id, "", NULL, 0, &pr) !=
		    GG_API_OK)
			gg_warn("post_receive %s: %s", ps.gl_repository,
				gg_api_client_error(d->api));
		gg_api_post_receive_clear(&pr);
	}
	git_libgit2_shutdown();
	free(repo);
	status = (error < 0 || ps.refused) ? GG_EXIT_DENIED : GG_EXIT_OK;
	return status;
}

static void summarize(const struct gg_dispatch *d, const char *action, const char *project,
		      const char *user, const char *result)
{
	struct gg_dispatch_summary *s = d->summary;

	if (!s)
		return;
	snprintf(s->action, sizeof(s->action), "%s", action ? action : "");
	snprintf(s->project, sizeof(s->project), "%s", project ? project : "");
	snprintf(s->user, sizeof(s->user), "%s", user ? user : "");
	snprintf(s->result, sizeof(s->result), "%s", result);
}

int gg_dispatch_run(const struct gg_dispatch *d, const char *command, size_t len)
{
	struct gg_command cmd;
	struct gg_api_allowed a;
	char key_id[24];
	struct gg_api_allowed_request req = {0};
	int rc, status;

	memset(&a, 0, sizeof(a));
	if (gg_command_parse(&cmd, command, len) != GG_COMMAND_OK) {
		gg_info("key-%" PRId64 ": disallowed command (%zu bytes)", d->key_id, len);
		gg_dispatch_print_box(d, GG_MSG_DISALLOWED_COMMAND);
		gg_metrics_refusal(GG_REFUSAL_DISALLOWED);
		summarize(d, NULL, NULL, NULL, "disallowed");
		return GG_EXIT_DISALLOWED;
	}
	if (d->key_id <= 0 && d->username == NULL) {
		/* The key was let in only so that this could be said (session.c). */
		gg_dispatch_print_box(d, GG_MSG_API_UNREACHABLE);
		gg_metrics_refusal(GG_REFUSAL_UNREACHABLE);
		summarize(d, NULL, cmd.project, NULL, "unreachable");
		return GG_EXIT_DENIED;
	}
	if (cmd.kind == GG_CMD_WELCOME) {
		summarize(d, NULL, NULL, NULL, "welcome");
		return welcome(d);
	}

	set_identity(d, &req, key_id);
	req.action = gg_command_action(cmd.kind);
	req.project = cmd.project;
	req.changes = "_any";
	req.check_ip = d->check_ip;
	req.git_protocol = d->git_protocol;
	rc = ask_allowed(d, &req, &a);
	if (rc != GG_API_OK) {
		gg_error("%s %s: %s", req.action, cmd.project, gg_api_client_error(d->api));
		gg_dispatch_print_box(d, GG_MSG_API_UNREACHABLE);
		summarize(d, req.action, cmd.project, NULL, "unreachable");
		status = GG_EXIT_DENIED;
		goto done;
	}
	if (!a.allowed) {
		gg_info("%s %s by %s%s denied (HTTP %ld): %s", req.action, cmd.project,
			req.key_id ? "key-" : "username-", req.key_id ? req.key_id : req.username,
			a.http_status, a.message);
		gg_dispatch_print_box(d, a.message);
		print_console_messages(d, &a); /* e.g. the custom maintenance message */
		summarize(d, req.action, cmd.project, a.gl_username, "denied");
		status = GG_EXIT_DENIED;
		goto done;
	}
	if (d->session_start && d->session_start(d->session_ctx, a.gl_id ? a.gl_id : "") != 0) {
		gg_warn("%s %s by %s: too many sessions", req.action, cmd.project,
			a.gl_id ? a.gl_id : "?");
		gg_dispatch_print_box(d, GG_MSG_TOO_MANY_SESSIONS);
		gg_metrics_refusal(GG_REFUSAL_TOO_MANY_SESSIONS);
		summarize(d, req.action, cmd.project, a.gl_username, "too_many_sessions");
		status = GG_EXIT_DENIED;
		goto done;
	}
	gg_info("%s %s by %s (%s%s) allowed", req.action, cmd.project,
		a.gl_username ? a.gl_username : "?", req.key_id ? "key-" : "username-",
		req.key_id ? req.key_id : req.username);
	print_console_messages(d, &a);
	if (cmd.kind != GG_CMD_RECEIVE_PACK && d->release_api)
		d->release_api(d->session_ctx);
	status = serve(d, &cmd, &a);
	summarize(d, req.action, cmd.project, a.gl_username,
		  status == GG_EXIT_OK ? "served" : "failed");
done:
	gg_api_allowed_clear(&a);
	return status;
}
