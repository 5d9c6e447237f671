/* sessions.c - sign-in, sign-out and OAuth token routes (to be written). */
#include "route.h"

const struct gg_route gg_session_routes[] = {{NULL, NULL, NULL}};
