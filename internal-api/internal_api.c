/* internal_api.c: placeholder until its module is written. */
typedef int gg_placeholder_internal_api_t;
