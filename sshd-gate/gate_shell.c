/*
 * gate-shell - OpenSSH's forced command for gitgate.
 *
 *   command="/usr/bin/gate-shell key-42",no-pty,... ssh-ed25519 AAAA...
 *
 * gate-authorized-keys-check writes that line for sshd, which then runs
 * gate-shell for every session of the key, with the client's command in
 * SSH_ORIGINAL_COMMAND.  From there on it is sshd-gate's session without
 * the SSH part: the same command parser, the same questions to gate-api, the
 * same refusals and exit statuses and the same Git serving code
 * (gg_dispatch_run), here over stdin, stdout and stderr, which sshd connects
 * to the client's channel.
 *
 * stderr is the client's terminal, so log lines go to syslog.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_client.h"
#include "config.h"
#include "dispatch.h"
#include "log.h"
#include "messages.h"
#include "util.h"

#define PROGRAM	     "gate-shell"
#define USERNAME_MAX 255
#define CHECK_IP_MAX 64

enum { EXIT_USAGE = 2 };

struct identity {
	int64_t key_id;
	char username[USERNAME_MAX + 1];
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: " PROGRAM " [--config FILE] key-N | username-NAME\n"
		"\n"
		"OpenSSH's forced command for gitgate (written into command=\"...\" by\n"
		"gate-authorized-keys-check).  Runs SSH_ORIGINAL_COMMAND (git-upload-pack,\n"
		"git-receive-pack or git-upload-archive 'PATH') for the key or user after\n"
		"gate-api allowed it, and serves Git on stdin and stdout.  Refuses to run\n"
		"outside an SSH session (no SSH_CONNECTION).\n"
		"\n"
		"  -c, --config FILE  configuration file (default " GG_DEFAULT_CONFIG_PATH ",\n"
		"                     or $GITGATE_CONFIG)\n"
		"  -h, --help         this text\n"
		"  -V, --version      the version\n");
}

/* "key-N" (N a positive decimal) or "username-NAME" (NAME of [A-Za-z0-9_.-]). 0 or -1. */
static int parse_identity(const char *arg, struct identity *id)
{
	memset(id, 0, sizeof(*id));
	if (strncmp(arg, "key-", 4) == 0) {
		const char *p = arg + 4;
		int64_t v = 0;

		if (*p == '\0' || *p == '0')
			return -1;
		for (; *p; p++) {
			if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10)
				return -1;
			v = v * 10 + (*p - '0');
		}
		id->key_id = v;
		return 0;
	}
	if (strncmp(arg, "username-", 9) == 0) {
		const char *name = arg + 9;
		size_t n = strlen(name);

		if (n == 0 || n > USERNAME_MAX || name[0] == '-' || name[0] == '.')
			return -1;
		for (size_t i = 0; i < n; i++) {
			char c = name[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
				return -1;
		}
		memcpy(id->username, name, n + 1);
		return 0;
	}
	return -1;
}

/* --- the client's streams ----------------------------------------------------------------- */

static ssize_t read_stdin(void *ctx, void *buf, size_t len)
{
	ssize_t n;

	(void)ctx;
	do
		n = read(STDIN_FILENO, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

static ssize_t write_fd(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

static ssize_t write_stdout(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	return write_fd(STDOUT_FILENO, buf, len);
}

static ssize_t write_stderr(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	return write_fd(STDERR_FILENO, buf, len);
}

/* The client's address: the first word of SSH_CONNECTION ("ip port ip port"). */
static void client_ip(const char *ssh_connection, char out[CHECK_IP_MAX])
{
	size_t n = strcspn(ssh_connection, " ");

	if (n >= CHECK_IP_MAX)
		n = 0;
	memcpy(out, ssh_connection, n);
	out[n] = '\0';
}

static int run(const struct gg_config *cfg, const struct identity *id, const char *ssh_connection)
{
	struct gg_dispatch d;
	struct gg_api_client *api = NULL;
	const char *command = getenv("SSH_ORIGINAL_COMMAND");
	char check_ip[CHECK_IP_MAX], err[512], *cid;
	int status;

	memset(&d, 0, sizeof(d));
	d.io.read = read_stdin;
	d.io.write = write_stdout;
	d.write_err = write_stderr;

	cid = gg_random_hex(8);
	gg_log_set_correlation_id(cid);
	if (gg_api_client_from_config(&api, cfg, err, sizeof(err)) != GG_API_OK) {
		gg_error("%s", err);
		gg_dispatch_print_box(&d, GG_MSG_API_UNREACHABLE);
		status = GG_EXIT_DENIED;
		goto done;
	}
	if (cid)
		gg_api_client_set_request_id(api, cid);
	client_ip(ssh_connection, check_ip);
	d.cfg = cfg;
	d.api = api;
	d.key_id = id->key_id;
	d.username = id->key_id > 0 ? NULL : id->username;
	d.check_ip = check_ip[0] ? check_ip : NULL;
	d.git_protocol = getenv("GIT_PROTOCOL");
	if (command == NULL)
		command = "";
	status = gg_dispatch_run(&d, command, strlen(command));
	if (id->key_id > 0)
		gg_info("session of key-%" PRId64 " from %s ended: exit status %d", id->key_id,
			check_ip, status);
	else
		gg_info("session of username-%s from %s ended: exit status %d", id->username,
			check_ip, status);
done:
	gg_api_client_free(api);
	free(cid);
	return status;
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
	struct gg_dispatch box_only;
	struct identity id;
	const char *config_path = NULL, *ssh_connection;
	char err[512];
	int opt, status = GG_EXIT_DENIED;

	gg_config_init(&cfg);
	memset(&box_only, 0, sizeof(box_only));
	box_only.write_err = write_stderr;
	while ((opt = getopt_long(argc, argv, "c:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			status = GG_EXIT_OK;
			goto done;
		case 'V':
			printf(PROGRAM " (gitgate) %s\n", GG_VERSION);
			status = GG_EXIT_OK;
			goto done;
		default:
			usage(stderr);
			status = EXIT_USAGE;
			goto done;
		}
	}
	if (argc - optind != 1 || parse_identity(argv[optind], &id) != 0) {
		usage(stderr);
		status = EXIT_USAGE;
		goto done;
	}
	ssh_connection = getenv("SSH_CONNECTION");
	if (ssh_connection == NULL || ssh_connection[0] == '\0') {
		gg_dispatch_print_box(&box_only, GG_MSG_ONLY_SSH);
		goto done;
	}
	if (gg_config_load(&cfg, config_path, err, sizeof(err)) != 0) {
		fprintf(stderr, PROGRAM ": %s\n", err);
		goto done;
	}
	gg_log_setup(PROGRAM, cfg.log_level, cfg.log_format);
	gg_log_to_syslog();
	/* A client that hangs up must end the session, not kill it mid-write. */
	signal(SIGPIPE, SIG_IGN);
	status = run(&cfg, &id, ssh_connection);
done:
	gg_config_clear(&cfg);
	return status;
}
