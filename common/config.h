/*
 * config.h - the one configuration file shared by every gitgate program.
 *
 * The file is INI (parsed by libinih).  Every key has a default, so an empty
 * or missing default file is a valid configuration; a file named explicitly
 * with --config must exist.  Paths that are relative in the file are taken
 * relative to the directory holding the file, so `./var/gitgate.conf` can say
 * `data_dir = .`.  The defaults are listed in README.md ("Configuration").
 */
#ifndef GG_CONFIG_H
#define GG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define GG_DEFAULT_CONFIG_PATH "/etc/gitgate/gitgate.conf"
#define GG_DEFAULT_DATA_DIR    "/var/lib/gitgate"

struct gg_config {
	char *path; /* the file read, or NULL when none was */

	/* [core] */
	char *data_dir;	    /* /var/lib/gitgate */
	char *secret_file;  /* <data_dir>/gitlab_shell_secret */
	char *database_url; /* sqlite:<data_dir>/gitgate.db | postgresql://... */
	char *storage_root; /* <data_dir>/repositories */
	char *log_level;    /* info: error | warn | info | debug */
	char *log_format;   /* text | json */

	/* [api] */
	char *api_listen;     /* 127.0.0.1 */
	int api_port;	      /* 8080 */
	int api_threads;      /* 0: one per core */
	char *api_url;	      /* http://127.0.0.1:8080, where clients reach gate-api */
	int api_timeout;      /* 10 s, for clients of gate-api */
	int session_lifetime; /* 604800 s, web session cookie */
	int token_lifetime;   /* 7200 s, OAuth access tokens */
	char *role;	      /* primary | secondary */

	/* [ssh] */
	char *ssh_listen;	   /* 127.0.0.1 */
	int ssh_port;		   /* 2222 */
	char *ssh_user;		   /* git */
	char *host_key_dir;	   /* <data_dir> */
	int login_grace_time;	   /* 60 s */
	int max_startups;	   /* 100 unauthenticated connections */
	int max_sessions;	   /* 1000 in total */
	int max_sessions_per_user; /* 100 */
	int idle_timeout;	   /* 600 s */
	char *shell_path;	  /* directory of gate-shell for command= lines; the binary's own */
	char *ssh_proxy_protocol; /* ignore: use | require | reject | ignore (PROXY v1/v2) */
	char *ssh_proxy_allowed_cidrs; /* "": sources whose PROXY headers are believed */
	int ssh_proxy_header_timeout;  /* 5 s */
	char *ssh_metrics_listen;      /* 127.0.0.1 */
	int ssh_metrics_port;	       /* 0: no /metrics on sshd-gate (9122 is the usual port) */

	/* [hooks] (gate-hook, for pushes through stock git-receive-pack) */
	char *hook_default_user;     /* NULL: a push nobody is named for gets the instance-wide
				      * checks only (maintenance, Geo secondary) */
	char *hook_path;	     /* gate-hook for 'gatectl hooks install'; NULL: found next
				      * to the running program */
	bool hook_install_on_create; /* false: projects made later get the hooks too */

	/* [registry] (the container registry's token service, /jwt/auth) */
	char *registry_key_file; /* <data_dir>/registry.key: RSA private key (PEM) */
	char *registry_issuer;	 /* gitgate: the tokens' iss, the registry's auth.token.issuer */
	char *registry_service;	 /* container_registry: the tokens' aud */
	int registry_token_lifetime; /* 300 s */

	/* [geo] (a Geo secondary's repository replication: gatectl geo) */
	char *geo_primary_ssh_url;   /* ssh://git@HOST:PORT of the primary's sshd-gate */
	char *geo_replication_key;   /* private key of the replication account */
	char *geo_primary_host_keys; /* SHA256:... fingerprints of the primary's host keys */
	char *geo_status_file;	     /* <data_dir>/geo-status.json */
	int geo_sync_interval;	     /* 10 s between passes of 'geo sync --follow' */

	/* [git] (receive-pack's limits on a pushed pack; sizes take k, m, g suffixes) */
	unsigned long long git_max_input_size;	/* 0: no limit on the bytes of a pack */
	unsigned long git_max_pack_objects;	/* 10000000 objects in one pack */
	unsigned long long git_max_object_size; /* 1g: inflated size of one object */
};

/* Fill *cfg with the defaults (data_dir-derived paths are computed at load). */
void gg_config_init(struct gg_config *cfg);

/*
 * Read the file at path into cfg.  path NULL means GG_DEFAULT_CONFIG_PATH,
 * or $GITGATE_CONFIG when set; a missing default file is not an error, a
 * missing explicit one is.  Returns 0, or -1 with a message in errbuf.
 */
int gg_config_load(struct gg_config *cfg, const char *path, char *errbuf, size_t errlen);

/* Read the shared secret (whitespace-trimmed). Caller frees. NULL on error. */
char *gg_config_read_secret(const struct gg_config *cfg, char *errbuf, size_t errlen);

void gg_config_clear(struct gg_config *cfg);

#endif
