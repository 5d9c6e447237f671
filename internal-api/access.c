/* access.c: placeholder until its module is written. */
typedef int gg_placeholder_access_t;
