/*
 * main.c - the gate-api program: read the configuration and the shared
 * secret, serve HTTP until SIGTERM or SIGINT, then stop cleanly.
 *
 * Startup failures (bad configuration, unreadable secret, store that cannot
 * be opened or migrated, port in use) are one line on stderr and exit 1, so
 * that scripts and service managers can show the cause as is.
 */
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "log.h"
#include "maintenance.h"
#include "registry_key.h"
#include "sdnotify.h"
#include "store.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: gate-api [--config PATH]\n"
		     "\n"
		     "Serve gitgate's HTTP API: the internal API used by sshd-gate, gate-shell\n"
		     "and gate-hook (/api/v4/internal/*), the REST API, sign-in and the admin\n"
		     "pages, with maintenance mode's read-only middleware in front of them.\n"
		     "Listens on [api] listen and port of the configuration (default\n"
		     "127.0.0.1:8080) and runs until SIGTERM or SIGINT.\n"
		     "\n"
		     "  -c, --config PATH  configuration file (default $GITGATE_CONFIG, else\n"
		     "                     " GG_DEFAULT_CONFIG_PATH ")\n"
		     "  -h, --help         show this help and exit\n"
		     "  -V, --version      show the version and exit\n");
}

/* Open the store once before serving: applies pending migrations and fails
 * early, with the reason, when the database cannot be used. */
static int check_store(const struct gg_config *cfg)
{
	struct gg_store *st = NULL;
	char err[512];

	if (gg_store_open(&st, cfg->database_url, err, sizeof(err)) != GG_OK) {
		fprintf(stderr, "gate-api: cannot open the store: %s\n", err);
		return -1;
	}
	gg_store_close(st);
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
	struct gg_app app = {0};
	const char *config_path = NULL;
	char err[512], *secret = NULL;
	sigset_t sigs;
	int opt, sig, rc = 1;

	/*
	 * Keep freed memory in the heap instead of giving it back after every
	 * request: with one arena per worker thread, glibc's trimming and mmap
	 * threshold otherwise cost page faults and TLB shootdowns per request.
	 */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 4 << 20);

	while ((opt = getopt_long(argc, argv, "c:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("gate-api (gitgate) " GG_VERSION "\n");
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gate-api: unexpected argument: %s\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	/* SQLite's memory statistics take one process-wide mutex on every
	 * allocation; with a store connection per worker thread that mutex was
	 * the hottest lock of /internal/allowed.  It must be switched off before
	 * SQLite initialises, i.e. before the first store is opened. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	gg_config_init(&cfg);
	if (gg_config_load(&cfg, config_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "gate-api: %s\n", err);
		goto done;
	}
	gg_log_setup("gate-api", cfg.log_level, cfg.log_format);
	secret = gg_config_read_secret(&cfg, err, sizeof(err));
	if (!secret) {
		fprintf(stderr, "gate-api: %s\n", err);
		goto done;
	}
	if (check_store(&cfg) < 0)
		goto done;
	/* The container registry's signing key is made on the first start when
	 * `gatectl init` did not make it; without it only /jwt/auth fails. */
	if (gg_registry_key_ensure(cfg.registry_key_file, err, sizeof(err)) < 0)
		gg_warn("registry key: %s", err);
	if (gg_app_init(&app, &cfg, secret) < 0) {
		fprintf(stderr, "gate-api: out of memory\n");
		goto done;
	}

	/* Block the stop signals before any thread exists, so that the workers
	 * inherit the mask and only sigwait() below receives them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (gg_app_start(&app, err, sizeof(err)) < 0) {
		fprintf(stderr, "gate-api: %s\n", err);
		goto done;
	}
	if (gg_maintenance_clock_start(&app) < 0)
		gg_warn("cannot start the maintenance window clock");
	gg_info("listening on http://%s%s%s:%u (%u threads%s)",
		strchr(cfg.api_listen, ':') ? "[" : "", cfg.api_listen,
		strchr(cfg.api_listen, ':') ? "]" : "", (unsigned)app.port, app.threads,
		app.secondary ? ", Geo secondary" : "");
	gg_sd_notify("READY=1");
	if (sigwait(&sigs, &sig) != 0)
		sig = SIGTERM;
	gg_sd_notify("STOPPING=1");
	gg_info("%s received, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	gg_maintenance_clock_stop();
	gg_app_stop(&app);
	gg_info("stopped");
	rc = 0;
done:
	gg_app_clear(&app);
	free(secret);
	gg_config_clear(&cfg);
	return rc;
}
