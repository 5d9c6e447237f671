/*
 * gate-hook - gitgate's access check as a repository's pre-receive and
 * post-receive hook, for pushes that reach a repository through stock
 * git-receive-pack (the file transport, git-shell, git-http-backend) rather
 * than sshd-gate or gate-shell.  `gatectl hooks install` puts it in place.
 *
 * pre-receive asks gate-api, with the real "<old> <new> <ref>" lines, the
 * question sshd-gate asks before refs move (POST /internal/allowed), and
 * then tells it a write starts (/internal/pre_receive); a refusal is printed
 * as gitlab-shell frames it and the hook exits 1, so git moves no ref and
 * drops the pushed objects.  post-receive tells gate-api the write is over
 * (/internal/post_receive) and prints its messages.  Like sshd-gate, it
 * decides nothing itself.
 *
 * Who pushes: GL_ID ("key-N" or "user-N") or GL_USERNAME, which only the
 * transport in front of git can set (GitLab's names); else [hooks]
 * default_user.  When none is known, which is the case of a plain push over
 * the file transport, git-shell or git-http-backend, the push is asked about
 * with no identity: gate-api then answers the instance-wide questions it
 * asks first (maintenance mode, Geo secondary), and "The user you are
 * authenticating with could not be found." means those passed.  Who may
 * write the repository at all is then the transport's business, as it is
 * without gitgate.
 *
 * The project: GL_PROJECT_PATH, else the repository's path below the
 * storage root.  Everything git prints from a hook reaches the client as
 * "remote:" lines, so log lines go to syslog.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_client.h"
#include "config.h"
#include "log.h"
#include "messages.h"
#include "util.h"

#define PROGRAM "gate-hook"
#define RULER	"========================================================================"
/* More ref updates than fit in this are refused rather than half-checked. */
#define CHANGES_MAX	 (4 * 1024 * 1024)
#define PUSH_OPTIONS_MAX 100

enum { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2 };

enum hook_kind { HOOK_PRE_RECEIVE, HOOK_POST_RECEIVE };

/* One run of the hook. */
struct hook {
	const struct gg_config *cfg;
	struct gg_api_client *api;
	enum hook_kind kind;
	char project[PATH_MAX];
	const char *gl_repository; /* GL_REPOSITORY; may be NULL */
	const char *gl_id;	   /* GL_ID; may be NULL */
	/* At most one of the three; none for an unidentified push. */
	const char *key_id, *user_id, *username;
	char id_number[24];
	char check_ip[64];
	struct gg_buf changes;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: " PROGRAM " [--config FILE] pre-receive | post-receive\n"
		"       (or installed as a repository's hooks/pre-receive and post-receive)\n"
		"\n"
		"Asks gate-api whether a push through stock git-receive-pack may go ahead,\n"
		"with the ref updates git gives the hook on stdin.  The pusher is GL_ID\n"
		"(key-N or user-N) or GL_USERNAME, else [hooks] default_user; with none,\n"
		"only gate-api's instance-wide checks apply (maintenance mode).  The project\n"
		"is GL_PROJECT_PATH, else the repository's path below the storage root.\n"
		"Install it with 'gatectl hooks install'.\n"
		"\n"
		"  -c, --config FILE  configuration file (default " GG_DEFAULT_CONFIG_PATH ",\n"
		"                     or $GITGATE_CONFIG)\n"
		"  -h, --help         this text\n"
		"  -V, --version      the version\n");
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] ? v : NULL;
}

/* --- what git says to the client --------------------------------------------------------- */

/*
 * A refusal as gitlab-shell frames it.  git puts "remote: " before every
 * line the hook prints, so the client sees what sshd-gate prints itself.
 */
static void print_box(const char *message)
{
	fprintf(stderr, "\n%s\n\n%s\n\n%s\n\n", RULER, message, RULER);
	fflush(stderr);
}

/* gate-api's post_receive messages: alerts first, framed like a refusal. */
static void print_post_receive_messages(const struct gg_api_post_receive *pr)
{
	for (size_t i = 0; i < pr->n_messages; i++)
		if (strcmp(pr->messages[i].type, "alert") == 0)
			print_box(pr->messages[i].message);
	for (size_t i = 0; i < pr->n_messages; i++)
		if (strcmp(pr->messages[i].type, "alert") != 0)
			fprintf(stderr, "%s\n", pr->messages[i].message);
	fflush(stderr);
}

/* --- reading the environment ------------------------------------------------------------- */

static bool all_digits(const char *s)
{
	if (*s == '\0' || *s == '0' || strlen(s) > 18)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* The pusher, from GL_ID, GL_USERNAME or [hooks] default_user.  0 or -1 (said why). */
static int read_identity(struct hook *h)
{
	const char *gl_id = env("GL_ID"), *username = env("GL_USERNAME");

	h->gl_id = gl_id;
	if (gl_id) {
		const char *number = NULL;

		if (strncmp(gl_id, "key-", 4) == 0)
			number = gl_id + 4;
		else if (strncmp(gl_id, "user-", 5) == 0)
			number = gl_id + 5;
		if (number == NULL || !all_digits(number)) {
			fprintf(stderr, PROGRAM ": GL_ID '%s' is neither key-N nor user-N\n",
				gl_id);
			return -1;
		}
		snprintf(h->id_number, sizeof(h->id_number), "%s", number);
		if (gl_id[0] == 'k')
			h->key_id = h->id_number;
		else
			h->user_id = h->id_number;
	} else if (username) {
		h->username = username;
	} else if (h->cfg->hook_default_user && h->cfg->hook_default_user[0]) {
		h->username = h->cfg->hook_default_user;
	}
	return 0;
}

static bool anonymous(const struct hook *h)
{
	return !h->key_id && !h->user_id && !h->username;
}

/*
 * The project path: GL_PROJECT_PATH, else the repository's place below the
 * storage root without ".git" (git runs hooks in the repository, GIT_DIR
 * "." for a bare one).  0 or -1 (said why).
 */
static int read_project(struct hook *h)
{
	const char *given = env("GL_PROJECT_PATH");
	const char *git_dir = env("GIT_DIR");
	char *repo = NULL, *root = NULL;
	size_t rootlen, n;
	int ret = -1;

	if (given) {
		if (strlen(given) >= sizeof(h->project)) {
			fprintf(stderr, PROGRAM ": GL_PROJECT_PATH is too long\n");
			return -1;
		}
		snprintf(h->project, sizeof(h->project), "%s", given);
		return 0;
	}
	repo = realpath(git_dir ? git_dir : ".", NULL);
	root = h->cfg->storage_root ? realpath(h->cfg->storage_root, NULL) : NULL;
	if (repo == NULL || root == NULL) {
		fprintf(stderr, PROGRAM ": cannot resolve %s: %s\n",
			repo == NULL ? (git_dir ? git_dir : "the repository") : "the storage root",
			strerror(errno));
		goto done;
	}
	rootlen = strlen(root);
	if (strncmp(repo, root, rootlen) != 0 || repo[rootlen] != '/' ||
	    repo[rootlen + 1] == '\0') {
		fprintf(stderr,
			PROGRAM ": %s is not below the storage root %s; set GL_PROJECT_PATH\n",
			repo, root);
		goto done;
	}
	snprintf(h->project, sizeof(h->project), "%s", repo + rootlen + 1);
	n = strlen(h->project);
	if (n > 4 && strcmp(h->project + n - 4, ".git") == 0)
		h->project[n - 4] = '\0';
	ret = 0;
done:
	free(repo);
	free(root);
	return ret;
}

/* The pusher's address, for gate-api's check_ip: from sshd, else from a web server. */
static void read_check_ip(struct hook *h)
{
	const char *ssh = env("SSH_CONNECTION"), *remote = env("REMOTE_ADDR");
	size_t n = 0;

	if (ssh)
		n = strcspn(ssh, " ");
	else if (remote)
		n = strlen(remote);
	if (n >= sizeof(h->check_ip))
		n = 0;
	memcpy(h->check_ip, ssh ? ssh : remote ? remote : "", n);
	h->check_ip[n] = '\0';
}

/* git's "<old> <new> <ref>" lines from stdin.  0 or -1 (said why). */
static int read_changes(struct hook *h)
{
	char buf[65536];
	size_t n;

	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0) {
		if (h->changes.len + n > CHANGES_MAX) {
			fprintf(stderr, PROGRAM ": more ref updates than gitgate checks at once\n");
			return -1;
		}
		if (gg_buf_add(&h->changes, buf, n) != 0) {
			fprintf(stderr, PROGRAM ": out of memory\n");
			return -1;
		}
	}
	if (ferror(stdin)) {
		fprintf(stderr, PROGRAM ": cannot read the ref updates: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* --- the two hooks ------------------------------------------------------------------------- */

static int pre_receive(struct hook *h)
{
	struct gg_api_allowed a;
	struct gg_api_allowed_request req = {
	    .action = "git-receive-pack",
	    .project = h->project,
	    .key_id = h->key_id,
	    .user_id = h->user_id,
	    .username = h->username,
	    .protocol = env("GL_PROTOCOL") ? env("GL_PROTOCOL") : "ssh",
	    .changes = h->changes.data ? h->changes.data : "",
	    .check_ip = h->check_ip[0] ? h->check_ip : NULL,
	    .git_protocol = env("GIT_PROTOCOL"),
	};
	const char *gl_repository;
	int rc, status = EXIT_REFUSED;

	rc = gg_api_allowed(h->api, &req, &a);
	if (rc != GG_API_OK) {
		gg_error("push to %s: %s", h->project, gg_api_client_error(h->api));
		print_box(GG_MSG_API_UNREACHABLE);
		goto done;
	}
	if (!a.allowed) {
		if (anonymous(h) && a.http_status == 401 && a.message &&
		    strcmp(a.message, GG_MSG_UNKNOWN_USER) == 0) {
			/* Past maintenance and Geo: nothing more to ask about nobody. */
			gg_info("unidentified push to %s: the instance is writable", h->project);
			status = EXIT_OK;
			goto done;
		}
		gg_info("push to %s by %s refused (HTTP %ld): %s", h->project,
			h->gl_id      ? h->gl_id
			: h->username ? h->username
				      : "nobody",
			a.http_status, a.message);
		print_box(a.message);
		goto done;
	}
	for (size_t i = 0; i < a.n_console_messages; i++)
		fprintf(stderr, "%s\n", a.console_messages[i]);
	gl_repository = a.gl_repository ? a.gl_repository : h->gl_repository;
	if (gl_repository &&
	    gg_api_pre_receive(h->api, gl_repository, a.gl_id ? a.gl_id : h->gl_id) != GG_API_OK) {
		gg_error("pre_receive %s: %s", gl_repository, gg_api_client_error(h->api));
		print_box(GG_MSG_API_UNREACHABLE);
		goto done;
	}
	gg_info("push to %s by %s allowed", h->project, a.gl_id ? a.gl_id : "?");
	status = EXIT_OK;
done:
	gg_api_allowed_clear(&a);
	return status;
}

/*
 * post_receive needs the repository and the pusher as gate-api names them;
 * without GL_REPOSITORY and GL_ID they are asked for with a read check,
 * which still passes in maintenance mode.
 */
static void post_receive(struct hook *h)
{
	struct gg_api_allowed a;
	struct gg_api_allowed_request req = {
	    .action = "git-upload-pack",
	    .project = h->project,
	    .key_id = h->key_id,
	    .user_id = h->user_id,
	    .username = h->username,
	    .protocol = env("GL_PROTOCOL") ? env("GL_PROTOCOL") : "ssh",
	    .check_ip = h->check_ip[0] ? h->check_ip : NULL,
	};
	struct gg_api_post_receive pr;
	const char *options[PUSH_OPTIONS_MAX];
	const char *gl_repository = h->gl_repository, *identifier = h->gl_id;
	const char *count = env("GIT_PUSH_OPTION_COUNT");
	size_t n_options = 0;

	memset(&a, 0, sizeof(a));
	memset(&pr, 0, sizeof(pr));
	if (anonymous(h))
		return; /* gate-api counted nothing in, and has no one to talk to */
	if (gl_repository == NULL || identifier == NULL) {
		if (gg_api_allowed(h->api, &req, &a) != GG_API_OK || !a.allowed) {
			gg_warn("post-receive of %s: no repository id from gate-api: %s",
				h->project, a.message ? a.message : gg_api_client_error(h->api));
			goto done;
		}
		if (gl_repository == NULL)
			gl_repository = a.gl_repository;
		if (identifier == NULL)
			identifier = a.gl_id;
		if (gl_repository == NULL || identifier == NULL)
			goto done;
	}
	for (long i = 0, max = count ? strtol(count, NULL, 10) : 0;
	     i < max && n_options < PUSH_OPTIONS_MAX; i++) {
		char name[40];
		const char *v;

		snprintf(name, sizeof(name), "GIT_PUSH_OPTION_%ld", i);
		v = getenv(name);
		if (v)
			options[n_options++] = v;
	}
	if (gg_api_post_receive(h->api, gl_repository, identifier, h->changes.data, options,
				n_options, &pr) != GG_API_OK) {
		gg_warn("post_receive %s: %s", gl_repository, gg_api_client_error(h->api));
		goto done;
	}
	print_post_receive_messages(&pr);
done:
	gg_api_post_receive_clear(&pr);
	gg_api_allowed_clear(&a);
}

/* pre-receive or post-receive: the name git ran us by, else the argument. */
static int hook_kind(const char *argv0, const char *arg, enum hook_kind *out)
{
	const char *slash = strrchr(argv0, '/');
	const char *name = arg ? arg : slash ? slash + 1 : argv0;

	if (strcmp(name, "pre-receive") == 0)
		*out = HOOK_PRE_RECEIVE;
	else if (strcmp(name, "post-receive") == 0)
		*out = HOOK_POST_RECEIVE;
	else
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct gg_config cfg;
	struct hook h;
	const char *config_path = NULL;
	char err[512], *cid = NULL;
	int opt, status = EXIT_REFUSED;

	gg_config_init(&cfg);
	memset(&h, 0, sizeof(h));
	while ((opt = getopt_long(argc, argv, "+c:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			status = EXIT_OK;
			goto done;
		case 'V':
			printf(PROGRAM " (gitgate) %s\n", GG_VERSION);
			status = EXIT_OK;
			goto done;
		default:
			usage(stderr);
			status = EXIT_USAGE;
			goto done;
		}
	}
	if (argc - optind > 1 ||
	    hook_kind(argv[0], optind < argc ? argv[optind] : NULL, &h.kind) != 0) {
		usage(stderr);
		status = EXIT_USAGE;
		goto done;
	}
	if (gg_config_load(&cfg, config_path, err, sizeof(err)) != 0) {
		fprintf(stderr, PROGRAM ": %s\n", err);
		goto done;
	}
	gg_log_setup(PROGRAM, cfg.log_level, cfg.log_format);
	gg_log_to_syslog();
	cid = gg_random_hex(8);
	gg_log_set_correlation_id(cid);
	h.cfg = &cfg;
	h.gl_repository = env("GL_REPOSITORY");
	if (read_changes(&h) != 0 || read_identity(&h) != 0 || read_project(&h) != 0)
		goto done;
	read_check_ip(&h);
	if (gg_api_client_from_config(&h.api, &cfg, err, sizeof(err)) != GG_API_OK) {
		gg_error("%s", err);
		if (h.kind == HOOK_PRE_RECEIVE)
			print_box(GG_MSG_API_UNREACHABLE);
		goto done;
	}
	if (cid)
		gg_api_client_set_request_id(h.api, cid);
	if (h.kind == HOOK_PRE_RECEIVE) {
		status = pre_receive(&h);
	} else {
		post_receive(&h);
		status = EXIT_OK; /* the refs have moved; nothing here can undo that */
	}
done:
	gg_api_client_free(h.api);
	gg_buf_clear(&h.changes);
	gg_config_clear(&cfg);
	free(cid);
	return status;
}
