/* rest.c - the REST API's route table (filled in by the REST work). */
#include "route.h"

const struct gg_route gg_rest_routes[] = {{NULL, NULL, NULL}};
