/* jwt.c: placeholder until its module is written. */
typedef int gg_placeholder_jwt_t;
