/* store_sqlite.c: placeholder until its module is written. */
typedef int gg_placeholder_store_sqlite_t;
