/*
 * gate-authorized-keys-check - OpenSSH's AuthorizedKeysCommand for gitgate.
 *
 *   AuthorizedKeysCommand /usr/bin/gate-authorized-keys-check git %u %k
 *
 * sshd runs it on every public-key login, with the user logging in and the
 * key offered.  It asks gate-api whose key that is and prints one
 * authorized_keys line forcing gate-shell for it (authorized_keys.h), a
 * comment when gate-api does not know the key, and nothing when the user is
 * not the one gitgate serves.  Those three are answers and exit 0.  When
 * gate-api cannot be asked, or answers something that is not a key id, it
 * prints nothing on stdout, says why on stderr and exits 1: sshd then lets
 * nobody in, which is the safe way to fail.
 *
 * It is on the path of every SSH login, so it does the least it can: one
 * configuration read, one HTTP request, no store and no libgit2.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_client.h"
#include "authorized_keys.h"
#include "config.h"
#include "log.h"
#include "sshkey.h"
#include "util.h"

#define PROGRAM "gate-authorized-keys-check"

enum { EXIT_ANSWERED = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

static void usage(FILE *out)
{
	fprintf(out,
		"usage: " PROGRAM " [--config FILE] EXPECTED-USER ACTUAL-USER BASE64-KEY\n"
		"\n"
		"OpenSSH's AuthorizedKeysCommand for gitgate, in sshd_config:\n"
		"  AuthorizedKeysCommand /path/" PROGRAM " git %%u %%k\n"
		"Prints the authorized_keys line that forces gate-shell for the key, or\n"
		"'# No key was found for KEY', or nothing when ACTUAL-USER is not\n"
		"EXPECTED-USER; exit status 0 in those cases, 1 when gate-api cannot be\n"
		"asked, 2 on a usage error.\n"
		"\n"
		"  -c, --config FILE  configuration file (default " GG_DEFAULT_CONFIG_PATH ",\n"
		"                     or $GITGATE_CONFIG); passed on to gate-shell\n"
		"  -h, --help         this text\n"
		"  -V, --version      the version\n");
}

/*
 * The configuration gate-shell must be told about: the one read here, unless
 * it is the default, which gate-shell finds by itself.
 */
static const char *config_to_pass_on(const struct gg_config *cfg)
{
	if (cfg->path == NULL || strcmp(cfg->path, GG_DEFAULT_CONFIG_PATH) == 0)
		return NULL;
	return cfg->path;
}

/* Where gate-shell is: [ssh] shell_path, else next to this program. */
static char *shell_dir(const struct gg_config *cfg)
{
	char *dir;
	size_t n;

	dir = cfg->shell_path ? strdup(cfg->shell_path) : gg_self_dir();
	if (dir == NULL)
		return NULL;
	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = '\0';
	return dir;
}

static int lookup(const struct gg_config *cfg, const struct gg_sshkey *key, struct gg_buf *out)
{
	struct gg_api_client *api = NULL;
	char err[512], *dir = NULL;
	int64_t key_id = 0;
	int rc, status = EXIT_FAILED;

	if (gg_api_client_from_config(&api, cfg, err, sizeof(err)) != GG_API_OK) {
		fprintf(stderr, PROGRAM ": %s\n", err);
		goto done;
	}
	rc = gg_api_authorized_key(api, key->blob, &key_id);
	if (rc == GG_API_ENOTFOUND) {
		status =
		    gg_authorized_keys_not_found(out, key->blob) == 0 ? EXIT_ANSWERED : EXIT_FAILED;
		goto done;
	}
	if (rc != GG_API_OK) {
		fprintf(stderr, PROGRAM ": cannot ask gate-api at %s: %s\n", cfg->api_url,
			gg_api_client_error(api)[0] ? gg_api_client_error(api)
						    : gg_api_strerror(rc));
		goto done;
	}
	dir = shell_dir(cfg);
	if (gg_authorized_keys_line(out, dir, config_to_pass_on(cfg), key_id, key->type,
				    key->blob) != 0) {
		fprintf(stderr,
			PROGRAM ": refusing to write a command= line for key %lld with "
				"gate-shell in '%s' and config '%s' (only [A-Za-z0-9/._+,:@=-] "
				"may appear in them)\n",
			(long long)key_id, dir ? dir : "?", cfg->path ? cfg->path : "");
		goto done;
	}
	status = EXIT_ANSWERED;
done:
	free(dir);
	gg_api_client_free(api);
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
	struct gg_sshkey *key = NULL;
	struct gg_buf out = GG_BUF_INIT;
	const char *config_path = NULL;
	char err[512];
	int opt, status = EXIT_FAILED;

	gg_config_init(&cfg);
	while ((opt = getopt_long(argc, argv, "c:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			status = EXIT_ANSWERED;
			goto done;
		case 'V':
			printf(PROGRAM " (gitgate) %s\n", GG_VERSION);
			status = EXIT_ANSWERED;
			goto done;
		default:
			usage(stderr);
			status = EXIT_USAGE;
			goto done;
		}
	}
	if (argc - optind != 3) {
		usage(stderr);
		status = EXIT_USAGE;
		goto done;
	}
	/* Not our user: not our business, and no need to ask anyone. */
	if (strcmp(argv[optind], argv[optind + 1]) != 0) {
		status = EXIT_ANSWERED;
		goto done;
	}
	if (gg_config_load(&cfg, config_path, err, sizeof(err)) != 0) {
		fprintf(stderr, PROGRAM ": %s\n", err);
		goto done;
	}
	gg_log_setup(PROGRAM, cfg.log_level, cfg.log_format);
	key = calloc(1, sizeof(*key));
	if (key == NULL)
		goto done;
	if (gg_sshkey_parse(key, NULL, argv[optind + 2], err, sizeof(err)) != 0) {
		/*
		 * No key that fails to parse can be in the store (keys are
		 * parsed the same way when added), so it is simply unknown,
		 * as long as it can be repeated safely.
		 */
		if (gg_authorized_keys_not_found(&out, argv[optind + 2]) == 0) {
			status = EXIT_ANSWERED;
		} else {
			fprintf(stderr,
				PROGRAM ": the key argument is not a base64 key blob (%s)\n", err);
			status = EXIT_USAGE;
		}
		goto done;
	}
	status = lookup(&cfg, key, &out);
done:
	if (status == EXIT_ANSWERED && out.data && fwrite(out.data, 1, out.len, stdout) != out.len)
		status = EXIT_FAILED;
	if (fflush(stdout) != 0)
		status = EXIT_FAILED;
	gg_buf_clear(&out);
	free(key);
	gg_config_clear(&cfg);
	return status;
}
