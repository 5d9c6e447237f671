/*
 * gatectl - gitgate's administration console.
 *
 * Like GitLab's Rails console it works on the store directly, not through
 * gate-api, so an administrator can always switch maintenance mode, even with
 * every daemon down.  gate-api reads the settings fresh on each request, so a
 * switch made here takes effect there at once.
 *
 * Every command is one row of the table at the bottom: the row says which
 * options the command takes and how many arguments, and --help is printed
 * from the same table, so the two cannot disagree.  A command either does all
 * of its work or, on error, undoes what it had written before it exits 1
 * (2 for a usage error) with one line on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "gatectl_db.h"
#include "gatectl_geo.h"
#include "gatectl_repack.h"
#include "messages.h"
#include "repo.h"
#include "registry_key.h"
#include "repo_hooks.h"
#include "sshkey.h"
#include "store.h"
#include "util.h"

#define EXIT_USAGE	 2
#define MIN_PASSWORD_LEN 8

/* Every option any command takes; a command's row lists the ones it accepts. */
enum opt {
	O_CONFIG = 1 << 0,
	O_DATA_DIR = 1 << 1,
	O_ADMIN_USERNAME = 1 << 2,
	O_ADMIN_EMAIL = 1 << 3,
	O_ADMIN_PASSWORD = 1 << 4,
	O_TOKEN_FILE = 1 << 5,
	O_MESSAGE = 1 << 6,
	O_EMAIL = 1 << 7,
	O_NAME = 1 << 8,
	O_PASSWORD = 1 << 9,
	O_ADMIN = 1 << 10,
	O_FILE = 1 << 11,
	O_TITLE = 1 << 12,
	O_VISIBILITY = 1 << 13,
	O_DEFAULT_BRANCH = 1 << 14,
	O_PUSH = 1 << 15,
	O_SCOPES = 1 << 16,
	O_EXPIRES_DAYS = 1 << 17,
	O_LIMIT = 1 << 18,
	O_CAN_PUSH = 1 << 19,
	O_HELP = 1 << 20,
	O_ALL = 1 << 21,
	O_HOOK_PATH = 1 << 22,
	O_DATABASE_URL = 1 << 23,
	O_START = 1 << 24,
	O_END = 1 << 25,
	O_NOTICE = 1 << 26,
	O_CIDR = 1 << 27,
	O_USER = 1 << 28,
	O_WAIT = 1 << 29,
	O_TIMEOUT = 1 << 30,
};

static const struct option long_options[] = {
    {"config", required_argument, NULL, O_CONFIG},
    {"data-dir", required_argument, NULL, O_DATA_DIR},
    {"admin-username", required_argument, NULL, O_ADMIN_USERNAME},
    {"admin-email", required_argument, NULL, O_ADMIN_EMAIL},
    {"admin-password", required_argument, NULL, O_ADMIN_PASSWORD},
    {"token-file", required_argument, NULL, O_TOKEN_FILE},
    {"message", required_argument, NULL, O_MESSAGE},
    {"email", required_argument, NULL, O_EMAIL},
    {"name", required_argument, NULL, O_NAME},
    {"password", required_argument, NULL, O_PASSWORD},
    {"admin", no_argument, NULL, O_ADMIN},
    {"file", required_argument, NULL, O_FILE},
    {"title", required_argument, NULL, O_TITLE},
    {"visibility", required_argument, NULL, O_VISIBILITY},
    {"default-branch", required_argument, NULL, O_DEFAULT_BRANCH},
    {"push", required_argument, NULL, O_PUSH},
    {"scopes", required_argument, NULL, O_SCOPES},
    {"expires-days", required_argument, NULL, O_EXPIRES_DAYS},
    {"limit", required_argument, NULL, O_LIMIT},
    {"can-push", no_argument, NULL, O_CAN_PUSH},
    {"help", no_argument, NULL, O_HELP},
    {"all", no_argument, NULL, O_ALL},
    {"hook-path", required_argument, NULL, O_HOOK_PATH},
    {"database-url", required_argument, NULL, O_DATABASE_URL},
    {"start", required_argument, NULL, O_START},
    {"end", required_argument, NULL, O_END},
    {"notice", required_argument, NULL, O_NOTICE},
    {"cidr", required_argument, NULL, O_CIDR},
    {"user", required_argument, NULL, O_USER},
    {"wait", no_argument, NULL, O_WAIT},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {NULL, 0, NULL, 0},
};

/* What the command line said, once parsed. */
struct args {
	const char *config, *data_dir, *admin_username, *admin_email, *admin_password;
	const char *token_file, *message, *email, *name, *password, *file, *title;
	const char *visibility, *default_branch, *push, *scopes, *expires_days, *limit;
	const char *hook_path, *database_url;
	const char *start, *end, *notice, *cidr, *user, *timeout;
	bool admin, can_push, all, wait;
	int argc; /* positional arguments after the command words */
	char **argv;
};

struct ctl {
	struct gg_config cfg;
	struct gg_store *st;
	const struct command *cmd;
	struct args a;
};

struct command {
	const char *group;
	const char *name; /* NULL for a one-word command */
	int min_args, max_args;
	unsigned opts;
	int (*run)(struct ctl *c);
	const char *synopsis;
	const char *summary;
};

/* ---- output helpers ---- */

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("gatectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAILURE;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("gatectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'gatectl --help'.\n", stderr);
	return EXIT_USAGE;
}

static int store_fail(struct ctl *c, const char *what)
{
	return fail("%s: %s", what, gg_store_errmsg(c->st));
}

static void fmt_time(char out[32], int64_t t)
{
	if (t)
		gg_iso8601(out, t);
	else
		snprintf(out, 32, "never");
}

/* ---- value parsing ---- */

static const struct {
	const char *name;
	int level;
} level_names[] = {
    {"guest", GG_ACCESS_GUEST},		{"reporter", GG_ACCESS_REPORTER},
    {"developer", GG_ACCESS_DEVELOPER}, {"maintainer", GG_ACCESS_MAINTAINER},
    {"owner", GG_ACCESS_OWNER},
};

static const char *level_name(int level)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (level_names[i].level == level)
			return level_names[i].name;
	return "none";
}

static int parse_level(const char *s, int *level)
{
	char *end;
	long v;

	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(s, level_names[i].name) == 0) {
			*level = level_names[i].level;
			return 0;
		}
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || strcmp(level_name((int)v), "none") == 0 || v != (int)v)
		return -1;
	*level = (int)v;
	return 0;
}

static const char *push_name(int level)
{
	return level == GG_ACCESS_MAINTAINER  ? "maintainer"
	       : level == GG_ACCESS_DEVELOPER ? "developer"
					      : "no_one";
}

static int parse_push(const char *s, int *level)
{
	if (strcmp(s, "maintainer") == 0 || strcmp(s, "maintainers") == 0)
		*level = GG_ACCESS_MAINTAINER;
	else if (strcmp(s, "developer") == 0 || strcmp(s, "developers") == 0)
		*level = GG_ACCESS_DEVELOPER;
	else if (strcmp(s, "no_one") == 0 || strcmp(s, "no-one") == 0 || strcmp(s, "none") == 0)
		*level = GG_ACCESS_NO_ONE;
	else
		return -1;
	return 0;
}

static const char *visibility_name(enum gg_visibility v)
{
	return v == GG_VISIBILITY_PUBLIC     ? "public"
	       : v == GG_VISIBILITY_INTERNAL ? "internal"
					     : "private";
}

static int parse_visibility(const char *s, enum gg_visibility *v)
{
	if (strcmp(s, "private") == 0)
		*v = GG_VISIBILITY_PRIVATE;
	else if (strcmp(s, "internal") == 0)
		*v = GG_VISIBILITY_INTERNAL;
	else if (strcmp(s, "public") == 0)
		*v = GG_VISIBILITY_PUBLIC;
	else
		return -1;
	return 0;
}

static int parse_count(const char *s, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return (errno || end == s || *end || *out < 0 || *out > max) ? -1 : 0;
}

static int parse_id(const char *s, int64_t *id)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v <= 0)
		return -1;
	*id = v;
	return 0;
}

/* Copy into a fixed-size record field; refuse what would not fit. */
static int set_field(char *dst, size_t cap, const char *value, const char *what)
{
	if (strlen(value) >= cap)
		return fail("%s is too long (at most %zu characters)", what, cap - 1);
	memcpy(dst, value, strlen(value) + 1);
	return 0;
}

/* A password argument: "-" reads one line from stdin.  NULL on error. */
static char *password_arg(const char *arg)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (strcmp(arg, "-") != 0)
		return strdup(arg);
	n = getline(&line, &cap, stdin);
	if (n < 0) {
		free(line);
		fail("no password on standard input");
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

static int check_password(const char *pw)
{
	if (strlen(pw) < MIN_PASSWORD_LEN)
		return fail("password is too short (minimum is %d characters)", MIN_PASSWORD_LEN);
	return 0;
}

/* ---- files ---- */

static bool path_exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/*
 * Write a new private file: created 0600 under a temporary name and renamed
 * into place, so a reader never sees it half-written.  With exclusive, an
 * existing file is an error (EEXIST) instead of being replaced.
 */
static int write_private_file(const char *path, const char *content, bool exclusive)
{
	char *tmp = gg_strdup_printf("%s.tmp.%ld", path, (long)getpid());
	size_t len = strlen(content);
	int fd = -1, ret = -1;

	if (!tmp)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		goto done;
	if (fchmod(fd, 0600) < 0 || write(fd, content, len) != (ssize_t)len || fsync(fd) < 0)
		goto done;
	if (close(fd) < 0) {
		fd = -1;
		goto done;
	}
	fd = -1;
	if (exclusive) {
		/* link() refuses to replace, unlike rename() */
		if (link(tmp, path) < 0)
			goto done;
	} else if (rename(tmp, path) < 0) {
		goto done;
	}
	ret = 0;
done:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		int saved = errno;

		unlink(tmp);
		errno = saved;
	}
	free(tmp);
	return ret;
}

/* Path of the SQLite file behind a database URL, NULL for other backends. */
static const char *sqlite_path(const char *url)
{
	if (strncmp(url, "sqlite://", 9) == 0)
		return url + 9;
	if (strncmp(url, "sqlite:", 7) == 0)
		return url + 7;
	if (!strstr(url, "://"))
		return url;
	return NULL;
}

/* Open the configured store, which must exist already: a mistyped --config
 * must not quietly create an empty database somewhere else. */
static int open_store(struct ctl *c)
{
	const char *path = sqlite_path(c->cfg.database_url);
	char err[512];

	if (path && !path_exists(path))
		return fail("database %s does not exist; run 'gatectl init' first (config: %s)",
			    path, c->cfg.path ? c->cfg.path : "none, built-in defaults");
	if (gg_store_open(&c->st, c->cfg.database_url, err, sizeof(err)) != GG_OK)
		return fail("cannot open the store: %s", err);
	return 0;
}

static int find_user(struct ctl *c, const char *username, struct gg_user *u)
{
	int rc = gg_store_user_get_by_username(c->st, username, u);

	if (rc == GG_ENOTFOUND)
		return fail("user '%s' not found", username);
	return rc == GG_OK ? 0 : store_fail(c, "user lookup");
}

static int find_project(struct ctl *c, const char *path, struct gg_project *p)
{
	int rc = gg_store_project_get_by_path(c->st, path, p);

	if (rc == GG_ENOTFOUND)
		return fail("project '%s' not found", path);
	return rc == GG_OK ? 0 : store_fail(c, "project lookup");
}

static void actor_name(char *out, size_t len)
{
	snprintf(out, len, "gatectl (uid %ld)", (long)getuid());
}

/* ---- init ---- */

/* Absolute form of path (which may not exist yet), without trailing "/" or "/.". */
static char *absolute_dir(const char *path)
{
	char cwd[PATH_MAX], *abs;
	size_t n;

	abs = realpath(path, NULL);
	if (!abs) {
		if (path[0] == '/')
			abs = strdup(path);
		else if (getcwd(cwd, sizeof(cwd)))
			abs = gg_strdup_printf("%s/%s", cwd, path);
		else
			return NULL;
	}
	if (!abs)
		return NULL;
	for (n = strlen(abs); n > 1;) {
		if (abs[n - 1] == '/')
			abs[--n] = '\0';
		else if (n > 2 && abs[n - 1] == '.' && abs[n - 2] == '/')
			abs[n -= 2] = '\0';
		else
			break;
	}
	return abs;
}

static void replace(char **field, char *value)
{
	free(*field);
	*field = value;
}

/* data_dir as written in a new config: relative to the file when inside its directory. */
static char *config_data_dir(const char *config_path, const char *data_dir)
{
	char *copy = strdup(config_path), *cdir, *ddir, *out = NULL;
	size_t n;

	if (!copy)
		return NULL;
	cdir = absolute_dir(dirname(copy));
	ddir = absolute_dir(data_dir);
	if (cdir && ddir) {
		n = strlen(cdir);
		if (strcmp(cdir, ddir) == 0)
			out = strdup(".");
		else if (strncmp(ddir, cdir, n) == 0 && ddir[n] == '/' && n > 1)
			out = strdup(ddir + n + 1);
		else
			out = strdup(ddir);
	}
	free(copy);
	free(cdir);
	free(ddir);
	return out;
}

/* database_url: NULL for the default SQLite file (left commented out). */
static int write_config(const char *path, const char *data_dir, const char *database_url)
{
	char *rel = config_data_dir(path, data_dir), *text = NULL, *copy = strdup(path);
	char *db_line = database_url ? gg_strdup_printf("database_url = %s\n", database_url)
				     : strdup("# database_url = sqlite:<data_dir>/gitgate.db\n");
	int ret = EXIT_FAILURE;

	if (!rel || !copy || !db_line) {
		fail("out of memory");
		goto done;
	}
	if (gg_mkdir_p(dirname(copy), 0700) < 0) {
		fail("cannot create the directory of %s: %s", path, strerror(errno));
		goto done;
	}
	text =
	    gg_strdup_printf("# gitgate configuration, written by 'gatectl init'.\n"
			     "# Relative paths are taken relative to the directory of this file.\n"
			     "# The commented values are the defaults.\n"
			     "\n[core]\n"
			     "data_dir = %s\n"
			     "# secret_file = <data_dir>/gitlab_shell_secret\n"
			     "%s"
			     "# storage_root = <data_dir>/repositories\n"
			     "# log_level = info\n"
			     "# log_format = text\n"
			     "\n[api]\n"
			     "# listen = 127.0.0.1\n"
			     "# port = 8080\n"
			     "# threads = 0\n"
			     "# url = http://127.0.0.1:8080\n"
			     "# timeout = 10\n"
			     "# session_lifetime = 604800\n"
			     "# token_lifetime = 7200\n"
			     "# role = primary\n"
			     "\n[ssh]\n"
			     "# listen = 127.0.0.1\n"
			     "# port = 2222\n"
			     "# user = git\n"
			     "# host_key_dir = <data_dir>\n"
			     "# login_grace_time = 60\n"
			     "# max_startups = 100\n"
			     "# max_sessions = 1000\n"
			     "# max_sessions_per_user = 100\n"
			     "# idle_timeout = 600\n"
			     "\n"
			     "[hooks]\n"
			     "# default_user =\n"
			     "# path = <gate-hook next to gatectl>\n"
			     "# install_on_create = false\n",
			     rel, db_line);
	if (!text) {
		fail("out of memory");
		goto done;
	}
	if (write_private_file(path, text, true) < 0) {
		fail("cannot write %s: %s", path, strerror(errno));
		goto done;
	}
	ret = 0;
done:
	free(rel);
	free(copy);
	free(text);
	free(db_line);
	return ret;
}

static int write_secret(const char *path)
{
	char *hex = gg_random_hex(16), *line = NULL, *copy = strdup(path);
	int ret = EXIT_FAILURE;

	if (!hex || !copy || !(line = gg_strdup_printf("%s\n", hex))) {
		fail("cannot generate the secret");
		goto done;
	}
	/* EEXIST: a concurrent init wrote it first, which is as good. */
	if (gg_mkdir_p(dirname(copy), 0700) < 0 ||
	    (write_private_file(path, line, true) < 0 && errno != EEXIST)) {
		fail("cannot write the secret %s: %s", path, strerror(errno));
		goto done;
	}
	ret = 0;
done:
	if (hex)
		explicit_bzero(hex, strlen(hex));
	if (line)
		explicit_bzero(line, strlen(line));
	free(hex);
	free(line);
	free(copy);
	return ret;
}

/* 1 when the store holds users already, 0 when not, -1 on error. */
static int store_initialized(struct ctl *c)
{
	struct gg_user *users = NULL;
	size_t n = 0;

	if (gg_store_user_list(c->st, &users, &n) != GG_OK) {
		store_fail(c, "cannot list users");
		return -1;
	}
	free(users);
	return n > 0;
}

static int already_initialized(struct ctl *c)
{
	char *dir = absolute_dir(c->cfg.data_dir);
	char url[512];

	gg_store_url_redacted(url, sizeof(url), c->cfg.database_url);
	printf("gitgate is already initialized in %s (database %s); nothing was changed.\n",
	       dir ? dir : c->cfg.data_dir, url);
	free(dir);
	return 0;
}

/*
 * Create the admin and a token, printed once.  On any failure the admin is
 * deleted again (the token goes with it), so a retry starts clean.
 */
static int create_admin(struct ctl *c)
{
	struct gg_user u;
	struct gg_token t;
	char *password = NULL, *secret = NULL, *line = NULL, *dir = NULL;
	char url[512];
	bool generated = false;
	int rc, ret = EXIT_FAILURE;

	memset(&u, 0, sizeof(u));
	memset(&t, 0, sizeof(t));
	if (set_field(u.username, sizeof(u.username),
		      c->a.admin_username ? c->a.admin_username : "root", "username") ||
	    set_field(u.email, sizeof(u.email),
		      c->a.admin_email ? c->a.admin_email : "admin@example.com", "email"))
		return EXIT_FAILURE;
	snprintf(u.name, sizeof(u.name), "Administrator");
	u.admin = true;
	if (c->a.admin_password) {
		password = password_arg(c->a.admin_password);
		if (!password || check_password(password))
			goto done;
	} else {
		password = gg_random_hex(12);
		generated = true;
		if (!password) {
			fail("cannot generate a password");
			goto done;
		}
	}
	rc = gg_store_user_create(c->st, &u, password);
	if (rc == GG_EEXISTS && store_initialized(c) == 1) {
		/* a concurrent init got there first */
		ret = already_initialized(c);
		goto done;
	}
	if (rc != GG_OK) {
		store_fail(c, "cannot create the administrator");
		goto done;
	}

	t.user_id = u.id;
	t.kind = GG_TOKEN_PERSONAL;
	snprintf(t.name, sizeof(t.name), "gatectl init");
	snprintf(t.scopes, sizeof(t.scopes), "api");
	if (gg_store_token_create(c->st, &t, &secret) != GG_OK) {
		store_fail(c, "cannot create the administrator's token");
		goto undo;
	}
	if (c->a.token_file) {
		line = gg_strdup_printf("%s\n", secret);
		if (!line || write_private_file(c->a.token_file, line, false) < 0) {
			fail("cannot write %s: %s", c->a.token_file, strerror(errno));
			goto undo;
		}
	}

	dir = absolute_dir(c->cfg.data_dir);
	printf("Initialized gitgate in %s\n", dir ? dir : c->cfg.data_dir);
	printf("  configuration: %s\n", c->cfg.path ? c->cfg.path : "none (built-in defaults)");
	gg_store_url_redacted(url, sizeof(url), c->cfg.database_url);
	printf("  database:      %s\n", url);
	printf("  repositories:  %s\n", c->cfg.storage_root);
	printf("  secret:        %s\n", c->cfg.secret_file);
	printf("Administrator: %s <%s> (id %lld)\n", u.username, u.email, (long long)u.id);
	if (generated)
		printf("Administrator password (shown once): %s\n", password);
	printf("API token (shown once): %s\n", secret);
	if (c->a.token_file)
		printf("API token written to %s\n", c->a.token_file);
	ret = 0;
	goto done;
undo:
	gg_store_user_delete(c->st, u.id);
done:
	if (password)
		explicit_bzero(password, strlen(password));
	if (secret)
		explicit_bzero(secret, strlen(secret));
	if (line)
		explicit_bzero(line, strlen(line));
	free(password);
	free(secret);
	free(line);
	free(dir);
	return ret;
}

/*
 * An existing file or directory that init would have made private: group and
 * other access are taken away (mode want, as init creates it) and stdout says
 * so.  0, or EXIT_FAILURE with the reason on stderr.
 */
static int make_private(const char *path, mode_t want)
{
	struct stat sb;

	if (stat(path, &sb) < 0)
		return errno == ENOENT ? 0 : fail("cannot stat %s: %s", path, strerror(errno));
	if ((sb.st_mode & 077) == 0)
		return 0;
	if (chmod(path, want) < 0)
		return fail("cannot make %s private (mode %04o): %s", path, (unsigned)want,
			    strerror(errno));
	printf("Made %s private: mode %04o, was %04o\n", path, (unsigned)want,
	       (unsigned)(sb.st_mode & 07777));
	return 0;
}

/* The data directory and the secrets in it, when they were there before init
 * with wider permissions than init gives them. */
static int make_data_private(struct ctl *c)
{
	const char *db = sqlite_path(c->cfg.database_url);

	if (make_private(c->cfg.data_dir, 0700) || make_private(c->cfg.secret_file, 0600) ||
	    make_private(c->cfg.registry_key_file, 0600) || (db && make_private(db, 0600)))
		return EXIT_FAILURE;
	return 0;
}

static int cmd_init(struct ctl *c)
{
	const char *config_path = c->a.config ? c->a.config : getenv("GITGATE_CONFIG");
	bool new_config = config_path && *config_path && !path_exists(config_path);
	char err[512];
	const char *db;
	int rc;

	if (config_path && !*config_path)
		config_path = NULL;
	if (!new_config) {
		if (gg_config_load(&c->cfg, config_path, err, sizeof(err)) < 0)
			return fail("%s", err);
		if (c->a.data_dir) {
			char *want = absolute_dir(c->a.data_dir),
			     *have = absolute_dir(c->cfg.data_dir);
			bool same = want && have && strcmp(want, have) == 0;

			free(have);
			if (!same && c->cfg.path) {
				free(want);
				return fail("--data-dir %s differs from data_dir %s in %s",
					    c->a.data_dir, c->cfg.data_dir, c->cfg.path);
			}
			if (!same) {
				/* No file: every path derives from the data directory. */
				replace(&c->cfg.data_dir, want);
				replace(&c->cfg.secret_file,
					gg_strdup_printf("%s/gitlab_shell_secret", want));
				replace(&c->cfg.database_url,
					gg_strdup_printf("sqlite:%s/gitgate.db", want));
				replace(&c->cfg.storage_root,
					gg_strdup_printf("%s/repositories", want));
				replace(&c->cfg.host_key_dir, strdup(want));
			} else {
				free(want);
			}
		}
		if (c->a.database_url && strcmp(c->a.database_url, c->cfg.database_url) != 0) {
			if (c->cfg.path)
				return fail("--database-url differs from database_url in %s",
					    c->cfg.path);
			replace(&c->cfg.database_url, strdup(c->a.database_url));
		}
		db = sqlite_path(c->cfg.database_url);
		if (db && path_exists(db)) {
			if (open_store(c))
				return EXIT_FAILURE;
			rc = store_initialized(c);
			if (rc != 0)
				return rc < 0 ? EXIT_FAILURE : already_initialized(c);
		}
	}

	{
		const char *dir = new_config ? (c->a.data_dir ? c->a.data_dir : GG_DEFAULT_DATA_DIR)
					     : c->cfg.data_dir;
		struct stat sb;

		if (gg_mkdir_p(dir, 0700) < 0 || stat(dir, &sb) < 0)
			return fail("cannot create %s: %s", dir, strerror(errno));
		if (!S_ISDIR(sb.st_mode))
			return fail("%s is not a directory", dir);
		if (new_config) {
			/* GITGATE_DATABASE_URL: how the test suite runs on PostgreSQL
			 * without changing every test's init line. */
			const char *url =
			    c->a.database_url ? c->a.database_url : getenv("GITGATE_DATABASE_URL");

			if (write_config(config_path, dir, url && *url ? url : NULL))
				return EXIT_FAILURE;
			gg_config_clear(&c->cfg);
			gg_config_init(&c->cfg);
			if (gg_config_load(&c->cfg, config_path, err, sizeof(err)) < 0)
				return fail("%s", err);
		}
	}

	if (!path_exists(c->cfg.secret_file) && write_secret(c->cfg.secret_file))
		return EXIT_FAILURE;
	if (gg_registry_key_ensure(c->cfg.registry_key_file, err, sizeof(err)) < 0)
		return fail("%s", err);
	if (!c->st) {
		char *copy;
		const char *dbp = sqlite_path(c->cfg.database_url);

		if (dbp && (copy = strdup(dbp))) {
			gg_mkdir_p(dirname(copy), 0700);
			free(copy);
		}
		if (gg_store_open(&c->st, c->cfg.database_url, err, sizeof(err)) != GG_OK)
			return fail("cannot open the store: %s", err);
		rc = store_initialized(c);
		if (rc != 0)
			return rc < 0 ? EXIT_FAILURE : already_initialized(c);
	}
	if (make_data_private(c))
		return EXIT_FAILURE;
	if (gg_mkdir_p(c->cfg.storage_root, 0750) < 0)
		return fail("cannot create %s: %s", c->cfg.storage_root, strerror(errno));
	return create_admin(c);
}

/* ---- container registry ---- */

/* The certificate of the registry signing key, for the registry's
 * auth.token.rootcertbundle (made from the key, which stays private). */
static int cmd_registry_cert(struct ctl *c)
{
	char err[512], *pem = NULL;

	if (gg_registry_key_ensure(c->cfg.registry_key_file, err, sizeof(err)) < 0 ||
	    gg_registry_cert_pem(c->cfg.registry_key_file, c->cfg.registry_issuer, &pem, err,
				 sizeof(err)) < 0)
		return fail("%s", err);
	fputs(pem, stdout);
	free(pem);
	return EXIT_SUCCESS;
}

/* ---- maintenance ---- */

static void fmt_utc(char out[40], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm))
		strftime(out, 40, "%Y-%m-%d %H:%M:%S UTC", &tm);
	else
		snprintf(out, 40, "?");
}

static void print_maintenance(const struct gg_settings *s)
{
	printf("Maintenance mode: %s\n", s->maintenance_mode ? "on" : "off");
	if (s->maintenance_mode_message[0])
		printf("Message: %s\n", s->maintenance_mode_message);
}

static int switch_maintenance(struct ctl *c, bool on)
{
	struct gg_settings s;
	char actor[64];

	if (gg_store_settings_get(c->st, &s) != GG_OK)
		return store_fail(c, "cannot read the settings");
	s.maintenance_mode = s.maintenance_switch = on;
	if (c->a.message &&
	    set_field(s.maintenance_mode_message, sizeof(s.maintenance_mode_message), c->a.message,
		      "the message"))
		return EXIT_FAILURE;
	actor_name(actor, sizeof(actor));
	if (gg_store_settings_update(c->st, &s, 0, actor) != GG_OK)
		return store_fail(c, "cannot update the settings");
	if (gg_store_settings_get(c->st, &s) != GG_OK)
		return store_fail(c, "cannot read the settings");
	print_maintenance(&s);
	if (!on && s.maintenance_mode && s.window_state == GG_WINDOW_ACTIVE) {
		char end[40];

		fmt_utc(end, s.window.end_at);
		printf("Scheduled window %lld is in force until %s "
		       "(gatectl maintenance schedule cancel %lld)\n",
		       (long long)s.window.id, end, (long long)s.window.id);
	}
	return 0;
}

static int wait_for_drain(struct ctl *c);

static int cmd_maintenance_on(struct ctl *c)
{
	int rc = switch_maintenance(c, true);

	if (rc != 0 || !c->a.wait)
		return rc;
	return wait_for_drain(c);
}

static int cmd_maintenance_off(struct ctl *c)
{
	return switch_maintenance(c, false);
}

/* "90", "45s", "30m", "2h", "1d" as seconds, up to ten years; -1 when invalid. */
static int64_t parse_duration(const char *text)
{
	return gg_parse_duration(text, 10LL * 366 * 86400);
}

/* A point in time (see the synopsis of 'maintenance schedule'); base is what
 * "+DURATION" counts from.  -1 when invalid. */
static int64_t parse_when(const char *text, int64_t base)
{
	static const char *const formats[] = {"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S",
					      "%Y-%m-%d %H:%M:%S",  "%Y-%m-%d %H:%M",
					      "%Y-%m-%dT%H:%MZ",    "%Y-%m-%dT%H:%M"};
	struct tm tm;

	if (!text || !*text)
		return -1;
	if (text[0] == '+') {
		int64_t d = parse_duration(text + 1);

		return d < 0 ? -1 : base + d;
	}
	if (text[0] == '@') {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(text + 1, &end, 10);
		return errno || *end || v <= 0 ? -1 : (int64_t)v;
	}
	if (strcmp(text, "now") == 0)
		return gg_now();
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		const char *end;

		memset(&tm, 0, sizeof(tm));
		end = strptime(text, formats[i], &tm);
		if (end && *end == '\0')
			return (int64_t)timegm(&tm);
	}
	return -1;
}

static void print_window(const struct gg_maintenance_window *w, int64_t now)
{
	char start[40], end[40];
	const char *state;

	fmt_utc(start, w->start_at);
	fmt_utc(end, w->end_at);
	if (w->cancelled)
		state = "cancelled";
	else if (w->end_at <= now)
		state = "over";
	else if (w->start_at <= now)
		state = "in force";
	else if (w->notice > 0 && w->start_at - w->notice <= now)
		state = "announced";
	else
		state = "scheduled";
	printf("%-4lld %s .. %s  notice %llds  %-9s  by %s%s%s\n", (long long)w->id, start, end,
	       (long long)w->notice, state, w->created_by, w->message[0] ? "  message: " : "",
	       w->message);
}

static int print_writes(struct ctl *c, size_t *count)
{
	struct gg_write_in_flight *w = NULL;
	size_t n = 0;

	if (gg_store_write_list(c->st, &w, &n) != GG_OK)
		return store_fail(c, "cannot list the writes in flight");
	printf("Writes in flight: %zu\n", n);
	for (size_t i = 0; i < n; i++) {
		char since[32];

		gg_iso8601(since, w[i].started_at);
		printf("  %s  %s  by %s  on %s  since %s\n", w[i].request_id, w[i].project,
		       w[i].username[0] ? w[i].username : "?", w[i].node, since);
	}
	free(w);
	if (count)
		*count = n;
	return 0;
}

static int cmd_maintenance_status(struct ctl *c)
{
	struct gg_exemption *ex = NULL;
	struct gg_settings s;
	size_t n = 0;

	if (gg_store_settings_get(c->st, &s) != GG_OK)
		return store_fail(c, "cannot read the settings");
	print_maintenance(&s);
	printf("Switch: %s\n", s.maintenance_switch ? "on" : "off");
	if (s.window.id) {
		printf("%s window: ", s.window_state == GG_WINDOW_ACTIVE ? "Current" : "Next");
		print_window(&s.window, s.now);
		if (s.window_state == GG_WINDOW_ACTIVE && s.window.message[0])
			printf("Message in force: %s\n", s.window.message);
	}
	if (gg_store_exemption_list(c->st, &ex, &n) != GG_OK)
		return store_fail(c, "cannot list the exemptions");
	printf("Exemptions: %s\n", n ? "" : "none");
	for (size_t i = 0; i < n; i++)
		printf("  %s %s\n", ex[i].kind == GG_EXEMPT_CIDR ? "cidr" : "user", ex[i].value);
	free(ex);
	if (print_writes(c, NULL))
		return EXIT_FAILURE;
	return s.maintenance_mode ? 0 : 1;
}

/* Poll the writes in flight of every node until there are none. */
static int wait_for_drain(struct ctl *c)
{
	int64_t timeout = c->a.timeout ? parse_duration(c->a.timeout) : 60;
	struct timespec t0, now;
	bool told = false;

	if (timeout < 0)
		return usage_error("--timeout: expected a duration such as 60s, not '%s'",
				   c->a.timeout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct gg_write_in_flight *w = NULL;
		size_t n = 0;

		if (gg_store_write_list(c->st, &w, &n) != GG_OK)
			return store_fail(c, "cannot list the writes in flight");
		free(w);
		if (n == 0) {
			printf("No writes in flight.\n");
			return 0;
		}
		if (!told) {
			printf("Waiting for %zu write(s) in flight...\n", n);
			fflush(stdout);
			told = true;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= timeout) {
			char length[32];

			snprintf(length, sizeof(length), "%llds", (long long)timeout);
			print_writes(c, NULL);
			return fail(GG_MSG_DRAIN_TIMEOUT_FMT, n, length);
		}
		usleep(200 * 1000);
	}
}

static int cmd_maintenance_schedule(struct ctl *c)
{
	struct gg_maintenance_window *w;
	char actor[64];
	int ret = EXIT_FAILURE;

	if (c->a.argc >= 1 && strcmp(c->a.argv[0], "list") == 0) {
		size_t n = 0;

		if (c->a.argc != 1)
			return usage_error("usage: gatectl maintenance schedule list");
		if (gg_store_window_list(c->st, true, &w, &n) != GG_OK)
			return store_fail(c, "cannot list the maintenance windows");
		for (size_t i = 0; i < n; i++)
			print_window(&w[i], gg_now());
		if (n == 0)
			printf("No maintenance windows.\n");
		free(w);
		return 0;
	}
	actor_name(actor, sizeof(actor));
	if (c->a.argc >= 1 && strcmp(c->a.argv[0], "cancel") == 0) {
		char *end;
		long long id;

		if (c->a.argc != 2)
			return usage_error("usage: gatectl maintenance schedule cancel ID");
		errno = 0;
		id = strtoll(c->a.argv[1], &end, 10);
		if (errno || *end || id <= 0)
			return usage_error("schedule cancel: '%s' is not a window id",
					   c->a.argv[1]);
		if (gg_store_window_cancel(c->st, id, 0, actor) != GG_OK)
			return store_fail(c, "cannot cancel the window");
		printf("Maintenance window %lld cancelled\n", id);
		return 0;
	}
	if (c->a.argc != 0)
		return usage_error("unknown command 'maintenance schedule %s'", c->a.argv[0]);
	if (!c->a.start || !c->a.end)
		return usage_error("maintenance schedule: --start and --end are required");
	w = calloc(1, sizeof(*w));
	if (!w)
		return fail("out of memory");
	w->start_at = parse_when(c->a.start, gg_now());
	if (w->start_at < 0) {
		ret = usage_error("--start: cannot read '%s' as a time", c->a.start);
		goto done;
	}
	w->end_at = parse_when(c->a.end, w->start_at);
	if (w->end_at < 0) {
		ret = usage_error("--end: cannot read '%s' as a time", c->a.end);
		goto done;
	}
	w->notice = c->a.notice ? parse_duration(c->a.notice) : 1800;
	if (w->notice < 0) {
		ret =
		    usage_error("--notice: expected a duration such as 30m, not '%s'", c->a.notice);
		goto done;
	}
	if (c->a.message && set_field(w->message, sizeof(w->message), c->a.message, "the message"))
		goto done;
	if (gg_store_window_add(c->st, w, 0, actor) != GG_OK) {
		store_fail(c, "cannot schedule the window");
		goto done;
	}
	printf("Scheduled maintenance window %lld\n", (long long)w->id);
	print_window(w, gg_now());
	ret = 0;
done:
	free(w);
	return ret;
}

static int cmd_maintenance_exempt(struct ctl *c)
{
	const char *verb = c->a.argv[0];
	enum gg_exemption_kind kind;
	const char *value;
	char actor[64];
	int rc;

	if (strcmp(verb, "list") == 0) {
		struct gg_exemption *ex = NULL;
		size_t n = 0;

		if (gg_store_exemption_list(c->st, &ex, &n) != GG_OK)
			return store_fail(c, "cannot list the exemptions");
		for (size_t i = 0; i < n; i++)
			printf("%s %s\n", ex[i].kind == GG_EXEMPT_CIDR ? "cidr" : "user",
			       ex[i].value);
		if (n == 0)
			printf("No exemptions.\n");
		free(ex);
		return 0;
	}
	if (strcmp(verb, "add") != 0 && strcmp(verb, "remove") != 0)
		return usage_error("maintenance exempt: expected add, remove or list, not '%s'",
				   verb);
	if (!c->a.cidr == !c->a.user)
		return usage_error("maintenance exempt %s: give one of --cidr C or --user U", verb);
	kind = c->a.cidr ? GG_EXEMPT_CIDR : GG_EXEMPT_USER;
	value = c->a.cidr ? c->a.cidr : c->a.user;
	actor_name(actor, sizeof(actor));
	if (strcmp(verb, "add") == 0)
		rc = gg_store_exemption_add(c->st, kind, value, 0, actor);
	else
		rc = gg_store_exemption_remove(c->st, kind, value, 0, actor);
	if (rc != GG_OK)
		return store_fail(c, strcmp(verb, "add") == 0 ? "cannot add the exemption"
							      : "cannot remove the exemption");
	printf("%s %s %s\n", kind == GG_EXEMPT_CIDR ? "Network" : "User", value,
	       strcmp(verb, "add") == 0 ? "may push in maintenance mode"
					: "may no longer push in maintenance mode");
	return 0;
}

/* ---- users ---- */

static int cmd_user_create(struct ctl *c)
{
	struct gg_settings s;
	struct gg_user u;
	char *password = NULL;
	int rc, ret = EXIT_FAILURE;

	if (!c->a.email)
		return usage_error("user create: --email is required");
	/* Refused in maintenance mode like every other way of creating users
	 * (the store refuses too; this gives the message before any work). */
	if (gg_store_settings_get(c->st, &s) != GG_OK)
		return store_fail(c, "cannot read the settings");
	if (s.maintenance_mode)
		return fail("%s", GG_MSG_READ_ONLY);

	memset(&u, 0, sizeof(u));
	if (set_field(u.username, sizeof(u.username), c->a.argv[0], "username") ||
	    set_field(u.email, sizeof(u.email), c->a.email, "email") ||
	    (c->a.name && set_field(u.name, sizeof(u.name), c->a.name, "name")))
		return EXIT_FAILURE;
	u.admin = c->a.admin;
	if (c->a.password) {
		password = password_arg(c->a.password);
		if (!password || check_password(password))
			goto done;
	}
	rc = gg_store_user_create(c->st, &u, password);
	if (rc == GG_EREADONLY) {
		fail("%s", GG_MSG_READ_ONLY);
		goto done;
	}
	if (rc != GG_OK) {
		store_fail(c, "cannot create the user");
		goto done;
	}
	printf("Created user %s (id %lld)%s%s\n", u.username, (long long)u.id,
	       u.admin ? ", administrator" : "", password ? "" : ", no password (no web sign-in)");
	ret = 0;
done:
	if (password)
		explicit_bzero(password, strlen(password));
	free(password);
	return ret;
}

static int cmd_user_list(struct ctl *c)
{
	struct gg_user *users = NULL;
	size_t n = 0;

	if (gg_store_user_list(c->st, &users, &n) != GG_OK)
		return store_fail(c, "cannot list users");
	printf("%-6s %-20s %-30s %-5s %-7s %s\n", "ID", "USERNAME", "EMAIL", "ADMIN", "STATE",
	       "NAME");
	for (size_t i = 0; i < n; i++)
		printf("%-6lld %-20s %-30s %-5s %-7s %s\n", (long long)users[i].id,
		       users[i].username, users[i].email, users[i].admin ? "yes" : "no",
		       users[i].blocked ? "blocked" : "active", users[i].name);
	free(users);
	return 0;
}

static int cmd_user_show(struct ctl *c)
{
	struct gg_user u;
	struct gg_key *keys = NULL;
	struct gg_token *tokens = NULL;
	size_t nkeys = 0, ntokens = 0;
	char created[32];

	if (find_user(c, c->a.argv[0], &u))
		return EXIT_FAILURE;
	if (gg_store_key_list_for_user(c->st, u.id, &keys, &nkeys) != GG_OK ||
	    gg_store_token_list_for_user(c->st, u.id, &tokens, &ntokens) != GG_OK) {
		free(keys);
		return store_fail(c, "cannot read the user's keys and tokens");
	}
	fmt_time(created, u.created_at);
	printf("id:         %lld\n", (long long)u.id);
	printf("username:   %s\n", u.username);
	printf("name:       %s\n", u.name);
	printf("email:      %s\n", u.email);
	printf("admin:      %s\n", u.admin ? "yes" : "no");
	printf("state:      %s\n", u.blocked ? "blocked" : "active");
	printf("created_at: %s\n", created);
	printf("keys:       %zu\n", nkeys);
	printf("tokens:     %zu\n", ntokens);
	free(keys);
	free(tokens);
	return 0;
}

static int user_update(struct ctl *c, const char *done_fmt,
		       int (*fn)(struct gg_store *, int64_t, bool), bool value)
{
	struct gg_user u;

	if (find_user(c, c->a.argv[0], &u))
		return EXIT_FAILURE;
	if (fn(c->st, u.id, value) != GG_OK)
		return store_fail(c, "cannot update the user");
	printf(done_fmt, u.username);
	return 0;
}

static int cmd_user_block(struct ctl *c)
{
	return user_update(c, "Blocked user %s\n", gg_store_user_set_blocked, true);
}

static int cmd_user_unblock(struct ctl *c)
{
	return user_update(c, "Unblocked user %s\n", gg_store_user_set_blocked, false);
}

static int cmd_user_delete(struct ctl *c)
{
	struct gg_user u;

	if (find_user(c, c->a.argv[0], &u))
		return EXIT_FAILURE;
	if (gg_store_user_delete(c->st, u.id) != GG_OK)
		return store_fail(c, "cannot delete the user");
	printf("Deleted user %s and their keys, tokens and memberships\n", u.username);
	return 0;
}

static int cmd_user_set_password(struct ctl *c)
{
	struct gg_user u;
	char *password;
	int ret = EXIT_FAILURE;

	if (find_user(c, c->a.argv[0], &u))
		return EXIT_FAILURE;
	password = password_arg(c->a.argv[1]);
	if (!password || check_password(password))
		goto done;
	if (gg_store_user_set_password(c->st, u.id, password) != GG_OK) {
		store_fail(c, "cannot set the password");
		goto done;
	}
	printf("Password of %s changed\n", u.username);
	ret = 0;
done:
	if (password)
		explicit_bzero(password, strlen(password));
	free(password);
	return ret;
}

/* ---- keys ---- */

/* The key line from --file (its first line that is not blank or a comment)
 * or from the argument. */
static int read_key(struct ctl *c, const char *arg, struct gg_sshkey *key)
{
	char err[256], *line = NULL;
	size_t cap = 0;
	int ret = EXIT_FAILURE;

	if (c->a.file && arg)
		return usage_error("give the key either with --file or as an argument, not both");
	if (!c->a.file && !arg)
		return usage_error("no key given (--file F or \"KEYLINE\")");
	if (c->a.file) {
		FILE *f = strcmp(c->a.file, "-") == 0 ? stdin : fopen(c->a.file, "r");

		if (!f)
			return fail("cannot read %s: %s", c->a.file, strerror(errno));
		while (getline(&line, &cap, f) >= 0) {
			const char *p = line + strspn(line, " \t\r\n");

			if (*p && *p != '#')
				break;
			line[0] = '\0';
		}
		if (f != stdin)
			fclose(f);
		if (!line || !line[0]) {
			fail("%s holds no key", c->a.file);
			goto done;
		}
		arg = line;
	}
	if (gg_sshkey_parse(key, NULL, arg, err, sizeof(err)) < 0) {
		fail("invalid key: %s", err);
		goto done;
	}
	ret = 0;
done:
	free(line);
	return ret;
}

static int add_key(struct ctl *c, int64_t user_id, int64_t project_id, const char *owner,
		   const char *arg)
{
	struct gg_sshkey *parsed = calloc(1, sizeof(*parsed));
	struct gg_key *k = calloc(1, sizeof(*k));
	const char *title;
	int ret = EXIT_FAILURE;

	if (!parsed || !k) {
		fail("out of memory");
		goto done;
	}
	if ((ret = read_key(c, arg, parsed)) != 0)
		goto done;
	ret = EXIT_FAILURE;
	title = c->a.title ? c->a.title : parsed->comment[0] ? parsed->comment : parsed->type;
	if (set_field(k->title, sizeof(k->title), title, "title"))
		goto done;
	k->user_id = user_id;
	k->project_id = project_id;
	k->can_push = c->a.can_push;
	snprintf(k->type, sizeof(k->type), "%s", parsed->type);
	snprintf(k->blob, sizeof(k->blob), "%s", parsed->blob);
	if (gg_store_key_add(c->st, k) != GG_OK) {
		store_fail(c, "cannot add the key");
		goto done;
	}
	printf("Added key %lld for %s: %s %s\n", (long long)k->id, owner, k->fingerprint, k->type);
	ret = 0;
done:
	free(parsed);
	free(k);
	return ret;
}

static int cmd_key_add(struct ctl *c)
{
	struct gg_user u;

	if (find_user(c, c->a.argv[0], &u))
		return EXIT_FAILURE;
	return add_key(c, u.id, 0, u.username, c->a.argc > 1 ? c->a.argv[1] : NULL);
}

static void print_keys(const struct gg_key *keys, size_t n, bool deploy)
{
	char created[32], used[32];

	printf("%-6s %-20s %-51s %s%-24s %-24s %s\n", "ID", "TYPE", "FINGERPRINT",
	       deploy ? "PUSH  " : "", "CREATED", "LAST_USED", "TITLE");
	for (size_t i = 0; i < n; i++) {
		fmt_time(created, keys[i].created_at);
		fmt_time(used, keys[i].last_used_at);
		printf("%-6lld %-20s %-51s %s%-24s %-24s %s\n", (long long)keys[i].id, keys[i].type,
		       keys[i].fingerprint, deploy ? (keys[i].can_push ? "yes   " : "no    ") : "",
		       created, used, keys[i].title);
	}
}

static int cmd_key_list(struct ctl *c)
{
	struct gg_user u;
	struct gg_key *keys = NULL;
	size_t n = 0;

	if (find_user(c, c->a.argv[0], &u))
		return EXIT_FAILURE;
	if (gg_store_key_list_for_user(c->st, u.id, &keys, &n) != GG_OK)
		return store_fail(c, "cannot list keys");
	print_keys(keys, n, false);
	free(keys);
	return 0;
}

static int cmd_key_delete(struct ctl *c)
{
	int64_t id;
	int rc;

	if (parse_id(c->a.argv[0], &id) < 0)
		return usage_error("key delete: invalid key id: %s", c->a.argv[0]);
	rc = gg_store_key_delete(c->st, id);
	if (rc == GG_ENOTFOUND)
		return fail("key %lld not found", (long long)id);
	if (rc != GG_OK)
		return store_fail(c, "cannot delete the key");
	printf("Deleted key %lld\n", (long long)id);
	return 0;
}

static int cmd_deploy_key_add(struct ctl *c)
{
	struct gg_project p;

	if (find_project(c, c->a.argv[0], &p))
		return EXIT_FAILURE;
	return add_key(c, 0, p.id, p.full_path, c->a.argc > 1 ? c->a.argv[1] : NULL);
}

static int cmd_deploy_key_list(struct ctl *c)
{
	struct gg_project p;
	struct gg_key *keys = NULL;
	size_t n = 0;

	if (find_project(c, c->a.argv[0], &p))
		return EXIT_FAILURE;
	if (gg_store_key_list_for_project(c->st, p.id, &keys, &n) != GG_OK)
		return store_fail(c, "cannot list deploy keys");
	print_keys(keys, n, true);
	free(keys);
	return 0;
}

/* ---- hooks ---- */

/*
 * gate-hook into one project's repository.  gate_hook NULL: find it.  0
 * written, 1 already there, -1 after a message.
 */
static int install_hooks(struct ctl *c, const struct gg_project *p, const char *gate_hook)
{
	char err[1024], *found = NULL;
	int rc;

	if (gate_hook == NULL) {
		found = gg_repo_hooks_gate_hook(&c->cfg, c->a.hook_path, err, sizeof(err));
		if (found == NULL) {
			fail("%s", err);
			return -1;
		}
		gate_hook = found;
	}
	rc = gg_repo_hooks_install(c->cfg.storage_root, p->repo_path, gate_hook, c->cfg.path, err,
				   sizeof(err));
	free(found);
	if (rc < 0) {
		fail("hooks of %s: %s", p->full_path, err);
		return -1;
	}
	return rc == GG_REPO_HOOKS_WRITTEN ? 0 : 1;
}

static int cmd_hooks_install(struct ctl *c)
{
	struct gg_project *list = NULL, *one = NULL;
	size_t n = 0;
	char err[1024], *gate_hook = NULL;
	int ret = EXIT_FAILURE, failed = 0;

	if (c->a.all == (c->a.argc == 1))
		return usage_error(
		    "usage: gatectl hooks install (PROJECT | --all) [--hook-path P]");
	gate_hook = gg_repo_hooks_gate_hook(&c->cfg, c->a.hook_path, err, sizeof(err));
	if (gate_hook == NULL) {
		fail("%s", err);
		goto done;
	}
	if (c->a.all) {
		if (gg_store_project_list(c->st, &list, &n) != GG_OK) {
			store_fail(c, "cannot list projects");
			goto done;
		}
	} else {
		one = calloc(1, sizeof(*one));
		if (one == NULL || find_project(c, c->a.argv[0], one)) {
			if (one == NULL)
				fail("out of memory");
			goto done;
		}
		list = one;
		one = NULL;
		n = 1;
	}
	for (size_t i = 0; i < n; i++) {
		int rc = install_hooks(c, &list[i], gate_hook);

		if (rc < 0)
			failed++;
		else
			printf("%s %s: %s/%s/hooks\n",
			       rc == 0 ? "Installed the hooks of" : "Hooks already in place for",
			       list[i].full_path, c->cfg.storage_root, list[i].repo_path);
	}
	ret = failed ? EXIT_FAILURE : 0;
done:
	free(gate_hook);
	free(list);
	free(one);
	return ret;
}

/* ---- projects ---- */

static int cmd_project_create(struct ctl *c)
{
	struct gg_project *p = calloc(1, sizeof(*p));
	char err[512];
	int ret = EXIT_FAILURE;

	if (!p)
		return fail("out of memory");
	if (set_field(p->full_path, sizeof(p->full_path), c->a.argv[0], "path"))
		goto done;
	if (c->a.visibility && parse_visibility(c->a.visibility, &p->visibility) < 0) {
		ret = usage_error("invalid visibility: %s (private, internal or public)",
				  c->a.visibility);
		goto done;
	}
	if (c->a.default_branch &&
	    set_field(p->default_branch, sizeof(p->default_branch), c->a.default_branch, "branch"))
		goto done;
	if (gg_store_project_create(c->st, p) != GG_OK) {
		store_fail(c, "cannot create the project");
		goto done;
	}
	if (gg_repo_create(c->cfg.storage_root, p->repo_path, p->default_branch, err, sizeof(err)) <
	    0) {
		/* No project without its repository. */
		gg_store_project_delete(c->st, p->id);
		fail("cannot create the repository: %s", err);
		goto done;
	}
	if (c->cfg.hook_install_on_create && install_hooks(c, p, NULL) < 0) {
		gg_repo_delete(c->cfg.storage_root, p->repo_path, err, sizeof(err));
		gg_store_project_delete(c->st, p->id);
		goto done;
	}
	printf("Created project %s (id %lld, %s), repository %s/%s\n", p->full_path,
	       (long long)p->id, visibility_name(p->visibility), c->cfg.storage_root, p->repo_path);
	ret = 0;
done:
	free(p);
	return ret;
}

static int cmd_project_list(struct ctl *c)
{
	struct gg_project *list = NULL;
	size_t n = 0;

	if (gg_store_project_list(c->st, &list, &n) != GG_OK)
		return store_fail(c, "cannot list projects");
	printf("%-6s %-40s %-9s %-9s %s\n", "ID", "PATH", "VISIBILITY", "READ_ONLY",
	       "DEFAULT_BRANCH");
	for (size_t i = 0; i < n; i++)
		printf("%-6lld %-40s %-9s  %-9s %s\n", (long long)list[i].id, list[i].full_path,
		       visibility_name(list[i].visibility), list[i].read_only ? "yes" : "no",
		       list[i].default_branch);
	free(list);
	return 0;
}

static int cmd_project_show(struct ctl *c)
{
	struct gg_project *p = calloc(1, sizeof(*p));
	struct gg_member *members = NULL;
	struct gg_protected_branch *branches = NULL;
	size_t nm = 0, nb = 0;
	char created[32];
	int ret = EXIT_FAILURE;

	if (!p)
		return fail("out of memory");
	if (find_project(c, c->a.argv[0], p))
		goto done;
	if (gg_store_member_list(c->st, p->id, &members, &nm) != GG_OK ||
	    gg_store_protected_branch_list(c->st, p->id, &branches, &nb) != GG_OK) {
		store_fail(c, "cannot read the project");
		goto done;
	}
	fmt_time(created, p->created_at);
	printf("id:                %lld\n", (long long)p->id);
	printf("path:              %s\n", p->full_path);
	printf("name:              %s\n", p->name);
	printf("visibility:        %s\n", visibility_name(p->visibility));
	printf("default_branch:    %s\n", p->default_branch);
	printf("read_only:         %s\n", p->read_only ? "yes" : "no");
	if (p->read_only_message[0])
		printf("read_only_message: %s\n", p->read_only_message);
	printf("repository:        %s/%s\n", c->cfg.storage_root, p->repo_path);
	printf("created_at:        %s\n", created);
	printf("members:          ");
	for (size_t i = 0; i < nm; i++)
		printf(" %s (%s)", members[i].username, level_name(members[i].access_level));
	printf("%s\nprotected:        ", nm ? "" : " none");
	for (size_t i = 0; i < nb; i++)
		printf(" %s (push: %s)", branches[i].name,
		       push_name(branches[i].push_access_level));
	printf("%s\n", nb ? "" : " none");
	ret = 0;
done:
	free(p);
	free(members);
	free(branches);
	return ret;
}

/* The row goes first, so access stops at once even if the files then
 * cannot be removed. */
static int cmd_project_delete(struct ctl *c)
{
	struct gg_project *p = calloc(1, sizeof(*p));
	char err[512];
	int ret = EXIT_FAILURE;

	if (!p)
		return fail("out of memory");
	if (find_project(c, c->a.argv[0], p))
		goto done;
	if (gg_store_project_delete(c->st, p->id) != GG_OK) {
		store_fail(c, "cannot delete the project");
		goto done;
	}
	if (gg_repo_delete(c->cfg.storage_root, p->repo_path, err, sizeof(err)) < 0) {
		fail("project %s deleted, but its repository was not: %s", p->full_path, err);
		goto done;
	}
	printf("Deleted project %s and its repository\n", p->full_path);
	ret = 0;
done:
	free(p);
	return ret;
}

static int cmd_project_read_only(struct ctl *c)
{
	struct gg_project *p = calloc(1, sizeof(*p));
	const char *state = c->a.argv[1];
	int ret = EXIT_FAILURE;

	if (!p)
		return fail("out of memory");
	if (strcmp(state, "on") != 0 && strcmp(state, "off") != 0) {
		ret = usage_error("project read-only: expected on or off, not '%s'", state);
		goto done;
	}
	if (find_project(c, c->a.argv[0], p))
		goto done;
	p->read_only = strcmp(state, "on") == 0;
	if (c->a.message && set_field(p->read_only_message, sizeof(p->read_only_message),
				      c->a.message, "the message"))
		goto done;
	if (gg_store_project_update(c->st, p) != GG_OK) {
		store_fail(c, "cannot update the project");
		goto done;
	}
	printf("Project %s is %s\n", p->full_path, p->read_only ? "read-only" : "writable");
	if (p->read_only)
		printf("Message: %s\n",
		       p->read_only_message[0] ? p->read_only_message : GG_MSG_PROJECT_READ_ONLY);
	ret = 0;
done:
	free(p);
	return ret;
}

/* ---- members ---- */

static int cmd_member_add(struct ctl *c)
{
	struct gg_project p;
	struct gg_user u;
	int level;

	if (parse_level(c->a.argv[2], &level) < 0)
		return usage_error("invalid access level: %s (guest, reporter, developer, "
				   "maintainer, owner or 10..50)",
				   c->a.argv[2]);
	if (find_project(c, c->a.argv[0], &p) || find_user(c, c->a.argv[1], &u))
		return EXIT_FAILURE;
	if (gg_store_member_set(c->st, p.id, u.id, level) != GG_OK)
		return store_fail(c, "cannot add the member");
	printf("%s is %s of %s\n", u.username, level_name(level), p.full_path);
	return 0;
}

static int cmd_member_list(struct ctl *c)
{
	struct gg_project p;
	struct gg_member *members = NULL;
	size_t n = 0;

	if (find_project(c, c->a.argv[0], &p))
		return EXIT_FAILURE;
	if (gg_store_member_list(c->st, p.id, &members, &n) != GG_OK)
		return store_fail(c, "cannot list members");
	printf("%-20s %s\n", "USERNAME", "ACCESS");
	for (size_t i = 0; i < n; i++)
		printf("%-20s %s (%d)\n", members[i].username, level_name(members[i].access_level),
		       members[i].access_level);
	free(members);
	return 0;
}

static int cmd_member_remove(struct ctl *c)
{
	struct gg_project p;
	struct gg_user u;
	int rc;

	if (find_project(c, c->a.argv[0], &p) || find_user(c, c->a.argv[1], &u))
		return EXIT_FAILURE;
	rc = gg_store_member_remove(c->st, p.id, u.id);
	if (rc == GG_ENOTFOUND)
		return fail("%s is not a member of %s", u.username, p.full_path);
	if (rc != GG_OK)
		return store_fail(c, "cannot remove the member");
	printf("Removed %s from %s\n", u.username, p.full_path);
	return 0;
}

/* ---- protected branches ---- */

static int cmd_branch_protect(struct ctl *c)
{
	struct gg_project p;
	struct gg_protected_branch pb;
	int level = GG_ACCESS_MAINTAINER, rc;

	if (c->a.push && parse_push(c->a.push, &level) < 0)
		return usage_error("invalid --push: %s (maintainer, developer or no_one)",
				   c->a.push);
	if (find_project(c, c->a.argv[0], &p))
		return EXIT_FAILURE;
	memset(&pb, 0, sizeof(pb));
	pb.project_id = p.id;
	pb.push_access_level = level;
	if (set_field(pb.name, sizeof(pb.name), c->a.argv[1], "branch name"))
		return EXIT_FAILURE;
	rc = gg_store_protected_branch_add(c->st, &pb);
	if (rc == GG_EEXISTS)
		return fail("branch %s is already protected in %s", pb.name, p.full_path);
	if (rc != GG_OK)
		return store_fail(c, "cannot protect the branch");
	printf("Protected %s in %s (push: %s)\n", pb.name, p.full_path, push_name(level));
	return 0;
}

static int cmd_branch_list(struct ctl *c)
{
	struct gg_project p;
	struct gg_protected_branch *list = NULL;
	size_t n = 0;

	if (find_project(c, c->a.argv[0], &p))
		return EXIT_FAILURE;
	if (gg_store_protected_branch_list(c->st, p.id, &list, &n) != GG_OK)
		return store_fail(c, "cannot list protected branches");
	printf("%-30s %s\n", "BRANCH", "PUSH");
	for (size_t i = 0; i < n; i++)
		printf("%-30s %s\n", list[i].name, push_name(list[i].push_access_level));
	free(list);
	return 0;
}

static int cmd_branch_unprotect(struct ctl *c)
{
	struct gg_project p;
	int rc;

	if (find_project(c, c->a.argv[0], &p))
		return EXIT_FAILURE;
	rc = gg_store_protected_branch_delete(c->st, p.id, c->a.argv[1]);
	if (rc == GG_ENOTFOUND)
		return fail("branch %s is not protected in %s", c->a.argv[1], p.full_path);
	if (rc != GG_OK)
		return store_fail(c, "cannot unprotect the branch");
	printf("Unprotected %s in %s\n", c->a.argv[1], p.full_path);
	return 0;
}

/* ---- tokens ---- */

/* The secret alone goes to stdout, so that TOKEN=$(gatectl token create U) works. */
static int cmd_token_create(struct ctl *c)
{
	struct gg_user u;
	struct gg_token t;
	char *secret = NULL, expires[32];
	long days = 0;

	if (c->a.expires_days && (parse_count(c->a.expires_days, 36500, &days) < 0 || days == 0))
		return usage_error("invalid --expires-days: %s", c->a.expires_days);
	if (find_user(c, c->a.argv[0], &u))
		return EXIT_FAILURE;
	memset(&t, 0, sizeof(t));
	t.user_id = u.id;
	t.kind = GG_TOKEN_PERSONAL;
	if (set_field(t.name, sizeof(t.name), c->a.name ? c->a.name : "gatectl", "name") ||
	    set_field(t.scopes, sizeof(t.scopes), c->a.scopes ? c->a.scopes : "api", "scopes"))
		return EXIT_FAILURE;
	t.expires_at = days ? gg_now() + days * 86400 : 0;
	if (gg_store_token_create(c->st, &t, &secret) != GG_OK)
		return store_fail(c, "cannot create the token");
	fmt_time(expires, t.expires_at);
	printf("%s\n", secret);
	fprintf(stderr,
		"Created token %lld for %s (scopes %s, expires %s). It is shown only this once.\n",
		(long long)t.id, u.username, t.scopes, expires);
	explicit_bzero(secret, strlen(secret));
	free(secret);
	return 0;
}

static int cmd_token_list(struct ctl *c)
{
	struct gg_user u;
	struct gg_token *list = NULL;
	size_t n = 0;
	char expires[32], used[32];
	int64_t now = gg_now();

	if (find_user(c, c->a.argv[0], &u))
		return EXIT_FAILURE;
	if (gg_store_token_list_for_user(c->st, u.id, &list, &n) != GG_OK)
		return store_fail(c, "cannot list tokens");
	printf("%-6s %-8s %-8s %-24s %-24s %-24s %s\n", "ID", "KIND", "STATE", "SCOPES", "EXPIRES",
	       "LAST_USED", "NAME");
	for (size_t i = 0; i < n; i++) {
		const struct gg_token *t = &list[i];
		const char *state = t->revoked				      ? "revoked"
				    : (t->expires_at && t->expires_at <= now) ? "expired"
									      : "active";

		fmt_time(expires, t->expires_at);
		fmt_time(used, t->last_used_at);
		printf("%-6lld %-8s %-8s %-24s %-24s %-24s %s\n", (long long)t->id,
		       t->kind == GG_TOKEN_PERSONAL ? "personal"
		       : t->kind == GG_TOKEN_OAUTH  ? "oauth"
						    : "session",
		       state, t->scopes, expires, used, t->name);
	}
	free(list);
	return 0;
}

static int cmd_token_revoke(struct ctl *c)
{
	int64_t id;
	int rc;

	if (parse_id(c->a.argv[0], &id) < 0)
		return usage_error("token revoke: invalid token id: %s", c->a.argv[0]);
	rc = gg_store_token_revoke(c->st, id);
	if (rc == GG_ENOTFOUND)
		return fail("token %lld not found", (long long)id);
	if (rc != GG_OK)
		return store_fail(c, "cannot revoke the token");
	printf("Revoked token %lld\n", (long long)id);
	return 0;
}

/* ---- audit ---- */

static int cmd_audit(struct ctl *c)
{
	struct gg_audit_event *ev = NULL;
	size_t n = 0;
	long limit = 50;
	char when[32];

	if (c->a.limit && parse_count(c->a.limit, 1000000, &limit) < 0)
		return usage_error("invalid --limit: %s", c->a.limit);
	if (gg_store_audit_list(c->st, (size_t)limit, &ev, &n) != GG_OK)
		return store_fail(c, "cannot list audit events");
	printf("%-24s %-24s %-18s %-26s %s\n", "TIME", "ACTOR", "ACTION", "TARGET", "CHANGE");
	for (size_t i = 0; i < n; i++) {
		fmt_time(when, ev[i].created_at);
		printf("%-24s %-24s %-18s %-26s \"%s\" -> \"%s\"\n", when, ev[i].actor,
		       ev[i].action, ev[i].target, ev[i].old_value, ev[i].new_value);
	}
	free(ev);
	return 0;
}

/* ---- the command table ---- */

#define C O_CONFIG

static const struct command commands[] = {
    {"init", NULL, 0, 0,
     C | O_DATA_DIR | O_ADMIN_USERNAME | O_ADMIN_EMAIL | O_ADMIN_PASSWORD | O_TOKEN_FILE |
	 O_DATABASE_URL,
     cmd_init,
     "init [--data-dir DIR] [--admin-username root] [--admin-email admin@example.com]\n"
     "       [--admin-password PW] [--token-file F] [--database-url URL]",
     "create the data directory, config (when --config names a missing file), secret,\n"
     "      database and first administrator with an 'api' token; idempotent;\n"
     "      --database-url postgresql://... puts the state in PostgreSQL (default for a\n"
     "      new config: $GITGATE_DATABASE_URL)"},
    {"registry", "cert", 0, 0, C, cmd_registry_cert, "registry cert",
     "print a certificate (PEM) of the registry signing key, for the registry's\n"
     "      auth.token.rootcertbundle"},
    {"maintenance", "on", 0, 0, C | O_MESSAGE | O_WAIT | O_TIMEOUT, cmd_maintenance_on,
     "maintenance on [--message M] [--wait [--timeout 60s]]",
     "turn maintenance mode on (--message \"\" clears the message; without it, it is kept);\n"
     "      --wait returns once no write is in flight on any node (exit 1 on timeout)"},
    {"maintenance", "off", 0, 0, C, cmd_maintenance_off, "maintenance off",
     "turn maintenance mode off (a scheduled window in force stays in force)"},
    {"maintenance", "status", 0, 0, C, cmd_maintenance_status, "maintenance status",
     "show maintenance mode, message, windows, exemptions and writes in flight;\n"
     "      exit 0 when on, 1 when off"},
    {"maintenance", "schedule", 0, 2, C | O_START | O_END | O_MESSAGE | O_NOTICE,
     cmd_maintenance_schedule,
     "maintenance schedule --start T --end T [--message M] [--notice 30m]\n"
     "       | maintenance schedule list [--all] | maintenance schedule cancel ID",
     "schedule a maintenance window (T: 2026-05-01T22:00:00Z, \"2026-05-01 22:00\" UTC,\n"
     "      @UNIXTIME, or +DURATION from now; --end +DURATION counts from the start);\n"
     "      git users and the web banner are told --notice ahead (default 30m)"},
    {"maintenance", "exempt", 1, 1, C | O_CIDR | O_USER, cmd_maintenance_exempt,
     "maintenance exempt add|remove (--cidr C | --user U) | maintenance exempt list",
     "source networks and users that may still push in maintenance mode (none by default)"},
    {"user", "create", 1, 1, C | O_EMAIL | O_NAME | O_PASSWORD | O_ADMIN, cmd_user_create,
     "user create USERNAME --email E [--name N] [--password PW] [--admin]",
     "create a user (refused in maintenance mode)"},
    {"user", "list", 0, 0, C, cmd_user_list, "user list", "list users"},
    {"user", "show", 1, 1, C, cmd_user_show, "user show USERNAME", "show a user"},
    {"user", "block", 1, 1, C, cmd_user_block, "user block USERNAME", "block a user"},
    {"user", "unblock", 1, 1, C, cmd_user_unblock, "user unblock USERNAME", "unblock a user"},
    {"user", "delete", 1, 1, C, cmd_user_delete, "user delete USERNAME",
     "delete a user with their keys, tokens and memberships"},
    {"user", "set-password", 2, 2, C, cmd_user_set_password, "user set-password USERNAME PW",
     "set a user's password (at least 8 characters)"},
    {"key", "add", 1, 2, C | O_FILE | O_TITLE, cmd_key_add,
     "key add USERNAME (--file F | \"KEYLINE\") [--title T]",
     "add an SSH key to a user; prints its id and fingerprint"},
    {"key", "list", 1, 1, C, cmd_key_list, "key list USERNAME", "list a user's SSH keys"},
    {"key", "delete", 1, 1, C, cmd_key_delete, "key delete ID", "delete an SSH key"},
    {"deploy-key", "add", 1, 2, C | O_FILE | O_TITLE | O_CAN_PUSH, cmd_deploy_key_add,
     "deploy-key add PATH (--file F | \"KEYLINE\") [--title T] [--can-push]",
     "add a deploy key to a project (read-only unless --can-push)"},
    {"deploy-key", "list", 1, 1, C, cmd_deploy_key_list, "deploy-key list PATH",
     "list a project's deploy keys (delete them with 'key delete ID')"},
    {"project", "create", 1, 1, C | O_VISIBILITY | O_DEFAULT_BRANCH, cmd_project_create,
     "project create PATH [--visibility private|internal|public] [--default-branch main]",
     "create a project (group/name) and its bare repository"},
    {"project", "list", 0, 0, C, cmd_project_list, "project list", "list projects"},
    {"project", "show", 1, 1, C, cmd_project_show, "project show PATH", "show a project"},
    {"project", "delete", 1, 1, C, cmd_project_delete, "project delete PATH",
     "delete a project and its repository"},
    {"project", "read-only", 2, 2, C | O_MESSAGE, cmd_project_read_only,
     "project read-only PATH on|off [--message M]",
     "make one project read-only (or writable again)"},
    {"member", "add", 3, 3, C, cmd_member_add, "member add PATH USERNAME LEVEL",
     "add or change a member: guest|reporter|developer|maintainer|owner or 10..50"},
    {"member", "list", 1, 1, C, cmd_member_list, "member list PATH", "list a project's members"},
    {"member", "remove", 2, 2, C, cmd_member_remove, "member remove PATH USERNAME",
     "remove a member"},
    {"branch", "protect", 2, 2, C | O_PUSH, cmd_branch_protect,
     "branch protect PATH NAME [--push maintainer|developer|no_one]",
     "protect a branch (or pattern with '*'); default: maintainers may push"},
    {"branch", "list", 1, 1, C, cmd_branch_list, "branch list PATH",
     "list a project's protected branches"},
    {"branch", "unprotect", 2, 2, C, cmd_branch_unprotect, "branch unprotect PATH NAME",
     "unprotect a branch"},
    {"token", "create", 1, 1, C | O_NAME | O_SCOPES | O_EXPIRES_DAYS, cmd_token_create,
     "token create USERNAME [--name N] [--scopes api,read_api] [--expires-days N]",
     "create a personal access token; prints the secret once"},
    {"token", "list", 1, 1, C, cmd_token_list, "token list USERNAME", "list a user's tokens"},
    {"token", "revoke", 1, 1, C, cmd_token_revoke, "token revoke ID", "revoke a token"},
    {"hooks", "install", 0, 1, C | O_ALL | O_HOOK_PATH, cmd_hooks_install,
     "hooks install (PROJECT | --all) [--hook-path P]",
     "install gate-hook as pre-receive and post-receive of the project's repository\n"
     "      (or of every one), so that stock git-receive-pack obeys gitgate; idempotent"},
    {"audit", NULL, 0, 0, C | O_LIMIT, cmd_audit, "audit [--limit N]",
     "list audit events, newest first (default 50; 0 = all)"},
};
static const size_t command_count = sizeof(commands) / sizeof(commands[0]);

#undef C

static void print_usage(FILE *out)
{
	fprintf(out, "Usage: gatectl [--config FILE] COMMAND [ARGS...]\n"
		     "       gatectl --help | --version\n\n"
		     "gitgate's administration console: works on the store directly.\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < command_count; i++)
		fprintf(out, "  %s\n      %s\n", commands[i].synopsis, commands[i].summary);
	fprintf(out, "  db copy [--from sqlite:PATH] --to postgresql://...\n      copy every row "
		     "of a SQLite store into a new PostgreSQL database\n");
	fprintf(out, "  geo sync [--follow [--interval S] [--full-interval S]] | geo status\n"
		     "      a Geo secondary's repository replication: one pass, or --follow: poll "
		     "the\n      replicated push generations every S (1) seconds and fetch what "
		     "moved, with a\n      full pass every --full-interval ([geo] sync_interval) "
		     "seconds; geo status:\n      replication and per-project lag "
		     "(docs/FAILOVER.md)\n");
	fprintf(out,
		"  repack (PROJECT | --all) [--full [--expire 14d]]\n      record which pack "
		"clones may reuse byte for byte; --full writes a new pack of the reachable\n"
		"      objects and deletes the packs and loose objects it makes redundant, and "
		"those\n      no ref reaches that are older than --expire (14d; \"now\" may "
		"delete a push in flight)\n");
	fprintf(out,
		"\nOptions:\n"
		"  --config FILE  configuration file (default: $GITGATE_CONFIG, else %s)\n"
		"  --help         show this help\n"
		"  --version      show the version\n\n"
		"A PW of \"-\" reads the password, and --file - the key, from standard input.\n"
		"Exit status: 0 on success, 1 on error, 2 on a usage error;\n"
		"'maintenance status' exits 0 when maintenance mode is on, 1 when off.\n",
		GG_DEFAULT_CONFIG_PATH);
}

static const struct command *find_command(const char *group, const char *name, bool *group_known)
{
	*group_known = false;
	for (size_t i = 0; i < command_count; i++) {
		if (strcmp(commands[i].group, group) != 0)
			continue;
		*group_known = true;
		if (!commands[i].name || (name && strcmp(commands[i].name, name) == 0))
			return &commands[i];
	}
	return NULL;
}

static const char *option_name(int val)
{
	for (const struct option *o = long_options; o->name; o++)
		if (o->val == val)
			return o->name;
	return "?";
}

/*
 * Parse the options of one command (they may come before or after its
 * arguments; "--" ends them).  argv[0] is the last command word.
 */
static int parse_command_args(const struct command *cmd, int argc, char **argv, struct args *a)
{
	int opt;

	optind = 0; /* GNU: restart, argument permutation on */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
		if (opt == '?')
			return usage_error("unknown option '%s'", argv[optind - 1]);
		if (opt == ':')
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		if (opt == O_HELP) {
			print_usage(stdout);
			exit(0);
		}
		if (!(cmd->opts & (unsigned)opt))
			return usage_error("option --%s is not valid for '%s%s%s'",
					   option_name(opt), cmd->group, cmd->name ? " " : "",
					   cmd->name ? cmd->name : "");
		switch (opt) {
		case O_CONFIG:
			a->config = optarg;
			break;
		case O_DATA_DIR:
			a->data_dir = optarg;
			break;
		case O_ADMIN_USERNAME:
			a->admin_username = optarg;
			break;
		case O_ADMIN_EMAIL:
			a->admin_email = optarg;
			break;
		case O_ADMIN_PASSWORD:
			a->admin_password = optarg;
			break;
		case O_TOKEN_FILE:
			a->token_file = optarg;
			break;
		case O_MESSAGE:
			a->message = optarg;
			break;
		case O_EMAIL:
			a->email = optarg;
			break;
		case O_NAME:
			a->name = optarg;
			break;
		case O_PASSWORD:
			a->password = optarg;
			break;
		case O_ADMIN:
			a->admin = true;
			break;
		case O_FILE:
			a->file = optarg;
			break;
		case O_TITLE:
			a->title = optarg;
			break;
		case O_VISIBILITY:
			a->visibility = optarg;
			break;
		case O_DEFAULT_BRANCH:
			a->default_branch = optarg;
			break;
		case O_PUSH:
			a->push = optarg;
			break;
		case O_SCOPES:
			a->scopes = optarg;
			break;
		case O_EXPIRES_DAYS:
			a->expires_days = optarg;
			break;
		case O_LIMIT:
			a->limit = optarg;
			break;
		case O_CAN_PUSH:
			a->can_push = true;
			break;
		case O_ALL:
			a->all = true;
			break;
		case O_HOOK_PATH:
			a->hook_path = optarg;
			break;
		case O_DATABASE_URL:
			a->database_url = optarg;
			break;
		case O_START:
			a->start = optarg;
			break;
		case O_END:
			a->end = optarg;
			break;
		case O_NOTICE:
			a->notice = optarg;
			break;
		case O_CIDR:
			a->cidr = optarg;
			break;
		case O_USER:
			a->user = optarg;
			break;
		case O_WAIT:
			a->wait = true;
			break;
		case O_TIMEOUT:
			a->timeout = optarg;
			break;
		}
	}
	a->argc = argc - optind;
	a->argv = argv + optind;
	if (a->argc < cmd->min_args || a->argc > cmd->max_args)
		return usage_error("usage: gatectl %s", cmd->synopsis);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option global_options[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct ctl c;
	const struct command *cmd;
	const char *config = NULL;
	bool group_known;
	char err[512];
	int opt, ret, first;

	memset(&c, 0, sizeof(c));
	opterr = 0;
	/* "+": stop at the command word; its own options are parsed later. */
	while ((opt = getopt_long(argc, argv, "+h", global_options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		case 'V':
			printf("gatectl (gitgate) %s\n", GG_VERSION);
			return 0;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("no command given");
	if (strcmp(argv[optind], "geo") == 0) /* gatectl_geo.c parses its own arguments */
		return gg_gatectl_geo_main(config, argc - optind, argv + optind);
	if (strcmp(argv[optind], "db") == 0) /* gatectl_db.c, likewise */
		return gg_gatectl_db_main(config, argc - optind, argv + optind);
	if (strcmp(argv[optind], "repack") == 0) /* gatectl_repack.c parses its own arguments */
		return gg_gatectl_repack_main(config, argc - optind, argv + optind);
	if (strcmp(argv[optind], "help") == 0) {
		print_usage(stdout);
		return 0;
	}
	first = optind;
	cmd = find_command(argv[first], first + 1 < argc ? argv[first + 1] : NULL, &group_known);
	if (!cmd) {
		if (!group_known)
			return usage_error("unknown command '%s'", argv[first]);
		if (first + 1 >= argc)
			return usage_error("'%s' needs a subcommand", argv[first]);
		return usage_error("unknown command '%s %s'", argv[first], argv[first + 1]);
	}
	if (cmd->name)
		first++;
	c.cmd = cmd;
	ret = parse_command_args(cmd, argc - first, argv + first, &c.a);
	if (ret)
		return ret;
	if (!c.a.config)
		c.a.config = config;

	gg_config_init(&c.cfg);
	if (cmd->run == cmd_init) {
		ret = cmd_init(&c);
	} else if (gg_config_load(&c.cfg, c.a.config, err, sizeof(err)) < 0) {
		ret = fail("%s", err);
	} else {
		ret = open_store(&c);
		if (ret == 0)
			ret = cmd->run(&c);
	}
	gg_store_close(c.st);
	gg_config_clear(&c.cfg);
	if (fflush(stdout) != 0 && ret == 0)
		ret = fail("cannot write the output: %s", strerror(errno));
	return ret;
}
