/* graphql.c - POST /api/graphql (to be written). */
#include "route.h"

const struct gg_route gg_graphql_routes[] = {{NULL, NULL, NULL}};
