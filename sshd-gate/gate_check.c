/*
 * gate-check - is this host set up to reach gate-api?  (Like gitlab-shell's
 * gitlab-shell-check.)
 *
 * Checks, in order, what gate-shell, gate-authorized-keys-check and gate-hook
 * need: the configuration file, the shared secret, and an answer from
 * gate-api's /internal/check signed with that secret (which proves the two
 * sides hold the same secret).  One line per check, "OK" or "FAILED: why";
 * exit status 1 as soon as one failed.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api_client.h"
#include "config.h"
#include "log.h"

#define PROGRAM "gate-check"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: " PROGRAM " [--config FILE]\n"
		"\n"
		"Checks the configuration, the shared secret and that gate-api answers\n"
		"/api/v4/internal/check with it.  Prints one line per check; exit status 0\n"
		"when all passed, 1 otherwise, 2 on a usage error.\n"
		"\n"
		"  -c, --config FILE  configuration file (default " GG_DEFAULT_CONFIG_PATH ",\n"
		"                     or $GITGATE_CONFIG)\n"
		"  -h, --help         this text\n"
		"  -V, --version      the version\n");
}

static bool check_config(struct gg_config *cfg, const char *path)
{
	char err[512];

	if (gg_config_load(cfg, path, err, sizeof(err)) != 0) {
		printf("Configuration: FAILED: %s\n", err);
		return false;
	}
	if (cfg->path)
		printf("Configuration %s: OK\n", cfg->path);
	else
		printf("Configuration: OK (no %s, built-in defaults)\n", GG_DEFAULT_CONFIG_PATH);
	return true;
}

static bool check_secret(const struct gg_config *cfg)
{
	struct stat st;
	char err[512], *secret = gg_config_read_secret(cfg, err, sizeof(err));
	bool ok = false;

	if (secret == NULL)
		printf("Secret: FAILED: %s\n", err);
	else if (stat(cfg->secret_file, &st) == 0 && (st.st_mode & 0007) != 0)
		printf("Secret %s: FAILED: readable by every user (mode %04o); chmod 600 it\n",
		       cfg->secret_file, (unsigned)(st.st_mode & 07777));
	else {
		printf("Secret %s: OK\n", cfg->secret_file);
		ok = true;
	}
	free(secret);
	return ok;
}

static bool check_api(const struct gg_config *cfg)
{
	struct gg_api_client *api = NULL;
	struct gg_api_check_result r;
	char err[512];
	bool ok = false;
	int rc;

	memset(&r, 0, sizeof(r));
	if (gg_api_client_from_config(&api, cfg, err, sizeof(err)) != GG_API_OK) {
		printf("Internal API %s: FAILED: %s\n", cfg->api_url, err);
		goto done;
	}
	rc = gg_api_check(api, &r);
	if (rc != GG_API_OK) {
		const char *why = gg_api_client_error(api);

		printf("Internal API %s: FAILED: %s%s\n", cfg->api_url,
		       why[0] ? why : gg_api_strerror(rc),
		       strstr(why, "HTTP 401") ? " (gate-api holds a different secret)" : "");
		goto done;
	}
	if (strcmp(r.api_version, "v4") != 0 || r.database == NULL ||
	    strcmp(r.database, "ok") != 0) {
		printf("Internal API %s: FAILED: api_version %s, database %s\n", cfg->api_url,
		       r.api_version, r.database ? r.database : "unknown");
		goto done;
	}
	printf("Internal API %s: OK (api %s, gitgate %s, revision %s, database %s)\n", cfg->api_url,
	       r.api_version, r.version ? r.version : "?", r.revision ? r.revision : "?",
	       r.database);
	ok = true;
done:
	gg_api_check_clear(&r);
	gg_api_client_free(api);
	return ok;
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
	const char *config_path = NULL;
	int opt, status = 1;

	gg_config_init(&cfg);
	while ((opt = getopt_long(argc, argv, "c:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			status = 0;
			goto done;
		case 'V':
			printf(PROGRAM " (gitgate) %s\n", GG_VERSION);
			status = 0;
			goto done;
		default:
			usage(stderr);
			status = 2;
			goto done;
		}
	}
	if (optind != argc) {
		usage(stderr);
		status = 2;
		goto done;
	}
	/* The checks print their own findings; library log lines would repeat them. */
	gg_log_setup(PROGRAM, "error", "text");
	if (check_config(&cfg, config_path) && check_secret(&cfg) && check_api(&cfg))
		status = 0;
	fflush(stdout);
done:
	gg_config_clear(&cfg);
	return status;
}
