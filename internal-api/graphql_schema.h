/*
 * graphql_schema.h - what GraphQL's engine (graphql.c) and gitgate's schema
 * (graphql_schema.c) share.
 *
 * The engine knows GraphQL and nothing of gitgate: it validates a parsed
 * document against types described by the tables below, coerces variables
 * and runs the selected fields.  The schema knows gitgate and little of
 * GraphQL: which types, fields and arguments exist, and how each field is
 * resolved.  Objects are cJSON objects in the REST API's shapes (rest.h); a
 * field without a resolver just copies its json_key from its parent, so most
 * of the schema is data.
 */
#ifndef GG_GRAPHQL_SCHEMA_H
#define GG_GRAPHQL_SCHEMA_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "graphql_parse.h"
#include "http.h"

struct gg_gql_exec; /* one execution, the engine's; opaque to resolvers */
struct gg_gql_field_def;
struct gg_gql_type_def;

/* Resolve one field of parent.  args holds the field's arguments, already
 * checked against their types.  Returns the value (a new cJSON item, JSON
 * null when there is none; NULL only when out of memory). */
typedef cJSON *(*gg_gql_resolve_fn)(struct gg_gql_exec *ex, const cJSON *parent,
				    const struct gg_gql_selection *sel,
				    const struct gg_gql_field_def *f, const cJSON *args);

/* An argument, or a field of an input object. */
struct gg_gql_arg_def {
	const char *name;
	const char *type; /* as written in GraphQL: "ID!", "[String!]", ... */
};

struct gg_gql_field_def {
	const char *name;
	const char *type; /* as GraphQL prints it, for messages */
	/* The object type of the value or of its items; NULL for scalars. */
	const struct gg_gql_type_def *object;
	const struct gg_gql_arg_def *args; /* ends with {NULL} */
	gg_gql_resolve_fn resolve;	   /* NULL: the parent's json_key */
	const char *json_key;
	const char *gid; /* "User": the number becomes "gid://gitlab/User/<n>" */
};

struct gg_gql_type_def {
	const char *name;
	const struct gg_gql_field_def *fields; /* ends with {NULL} */
};

/* An input type beyond the built-in scalars (String, ID, Int, Float, Boolean). */
struct gg_gql_input_type {
	const char *name;
	const struct gg_gql_arg_def *fields; /* an input object's fields, or NULL */
	bool (*valid)(const cJSON *v);	     /* an enum's or scalar's check, or NULL */
};

/* ---- the schema (graphql_schema.c) ---- */

extern const struct gg_gql_type_def gg_gql_query_type;
extern const struct gg_gql_type_def gg_gql_mutation_type;

/* The object type called name, or NULL. */
const struct gg_gql_type_def *gg_gql_type_named(const char *name);
/* Does a fragment's type condition (NULL: none) apply to type? */
bool gg_gql_type_condition_matches(const struct gg_gql_type_def *type, const char *condition);
/* The input type called name[0..len), or NULL. */
const struct gg_gql_input_type *gg_gql_input_type(const char *name, size_t len);

/* ---- what the engine offers resolvers (graphql.c) ---- */

struct gg_http_request *gg_gql_request(const struct gg_gql_exec *ex);
/* Record an error at sel (with its path); returns JSON null for the field. */
cJSON *gg_gql_field_error(struct gg_gql_exec *ex, const struct gg_gql_selection *sel,
			  const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* v (an object, or a list of them) as a value of type with sel's selections. */
cJSON *gg_gql_complete(struct gg_gql_exec *ex, const struct gg_gql_type_def *type, const cJSON *v,
		       const struct gg_gql_selection *sel);
/* The same for a v the caller built: v is freed (NULL gives JSON null). */
cJSON *gg_gql_complete_owned(struct gg_gql_exec *ex, const struct gg_gql_type_def *type, cJSON *v,
			     const struct gg_gql_selection *sel);

#endif
