/*
 * fuzz_config.c - the configuration file (common/config.h).
 *
 * The config file is trusted more than the wire, but it is edited by hand
 * and read by every program at start-up, so a typo must be an error and
 * never a crash.  Each input is written to one file in a temporary directory
 * made in LLVMFuzzerInitialize and loaded from there.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"

static char dir[256], path[300];

static void remove_dir(void)
{
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/gg-fuzz-config-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/gitgate.conf", dir);
	atexit(remove_dir);
	unsetenv("GITGATE_CONFIG");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gg_config cfg;
	char err[512];
	FILE *f = fopen(path, "w");

	if (!f)
		abort();
	if (fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	gg_config_init(&cfg);
	(void)gg_config_load(&cfg, path, err, sizeof(err));
	gg_config_clear(&cfg);
	return 0;
}
