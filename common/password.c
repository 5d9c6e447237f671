/* password.c: placeholder until its module is written. */
typedef int gg_placeholder_password_t;
