/*
 * graphql_parse.h - a small, strict parser for GraphQL executable documents.
 *
 * Debian ships no C GraphQL library, and POST /api/graphql takes its query
 * text from anyone on the network, so this parser is written to be safe on
 * hostile input before it is written to be complete: the text, its nesting,
 * its strings and its number of nodes are all bounded (GG_GQL_MAX_*), every
 * byte is read through one bounds-checked lexer, and a failed parse frees
 * everything and says where it stopped, in graphql-ruby's words
 * ("Parse error on \"}\" (RCURLY) at [1, 9]").
 *
 * It reads the executable half of the GraphQL grammar (October 2021): query,
 * mutation and subscription operations (named or not), variable definitions
 * with types and default values, directives, fields with aliases and
 * arguments, fragment spreads, inline fragments and fragment definitions,
 * and every kind of value (variables, ints, floats, strings, block strings,
 * booleans, null, enums, lists, input objects).  Type-system definitions
 * (schema, type, ...) are refused.  Meaning is the executor's job
 * (graphql.c): this module only builds the tree.
 *
 * The whole tree lives in one arena owned by the document, so a document is
 * freed with one call and no node needs freeing on its own.  Lists of
 * siblings are singly linked through `next`, in source order.
 */
#ifndef GG_GRAPHQL_PARSE_H
#define GG_GRAPHQL_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define GG_GQL_MAX_LENGTH (64 * 1024) /* bytes of query text */
#define GG_GQL_MAX_DEPTH  24	      /* nesting of selection sets, lists, objects, types */
#define GG_GQL_MAX_NODES  10000	      /* fields, arguments, values, ... in one document */
#define GG_GQL_MAX_STRING 16384	      /* bytes of one string literal as written */

enum gg_gql_operation_type { GG_GQL_QUERY, GG_GQL_MUTATION, GG_GQL_SUBSCRIPTION };

enum gg_gql_value_kind {
	GG_GQL_VALUE_NULL,
	GG_GQL_VALUE_INT,      /* text: the digits as written ("-12") */
	GG_GQL_VALUE_FLOAT,    /* text: as written ("1.5e3") */
	GG_GQL_VALUE_STRING,   /* text: decoded, UTF-8, never contains NUL */
	GG_GQL_VALUE_BOOLEAN,  /* boolean */
	GG_GQL_VALUE_ENUM,     /* text: the name */
	GG_GQL_VALUE_VARIABLE, /* text: the name without '$' */
	GG_GQL_VALUE_LIST,     /* items */
	GG_GQL_VALUE_OBJECT,   /* fields */
};

struct gg_gql_argument;

struct gg_gql_value {
	enum gg_gql_value_kind kind;
	const char *text;
	bool boolean;
	struct gg_gql_value *items;	/* LIST: first item */
	struct gg_gql_argument *fields; /* OBJECT: first field */
	struct gg_gql_value *next;	/* next item of the enclosing list */
	unsigned line, column;
};

/* An argument "name: value", or one field of an input object. */
struct gg_gql_argument {
	const char *name;
	struct gg_gql_value *value;
	struct gg_gql_argument *next;
	unsigned line, column;
};

struct gg_gql_directive {
	const char *name; /* without '@' */
	struct gg_gql_argument *args;
	struct gg_gql_directive *next;
	unsigned line, column;
};

enum gg_gql_selection_kind { GG_GQL_FIELD, GG_GQL_FRAGMENT_SPREAD, GG_GQL_INLINE_FRAGMENT };

struct gg_gql_selection {
	enum gg_gql_selection_kind kind;
	const char *alias;	      /* FIELD: NULL when none */
	const char *name;	      /* FIELD: the field; FRAGMENT_SPREAD: the fragment */
	const char *type_condition;   /* INLINE_FRAGMENT: NULL when none */
	struct gg_gql_argument *args; /* FIELD */
	struct gg_gql_directive *directives;
	struct gg_gql_selection *selections; /* FIELD (NULL when none), INLINE_FRAGMENT */
	struct gg_gql_selection *next;
	unsigned line, column;
};

/* A variable's type: a named type, or a list of a type; either may be non-null. */
struct gg_gql_type {
	const char *name;	/* NULL for a list */
	struct gg_gql_type *of; /* the item type of a list */
	bool non_null;
};

struct gg_gql_variable {
	const char *name; /* without '$' */
	struct gg_gql_type *type;
	struct gg_gql_value *default_value; /* NULL when none */
	struct gg_gql_directive *directives;
	struct gg_gql_variable *next;
	unsigned line, column;
};

struct gg_gql_operation {
	enum gg_gql_operation_type type;
	const char *name; /* NULL for an anonymous operation */
	struct gg_gql_variable *variables;
	struct gg_gql_directive *directives;
	struct gg_gql_selection *selections;
	struct gg_gql_operation *next;
	unsigned line, column;
};

struct gg_gql_fragment {
	const char *name;
	const char *type_condition;
	struct gg_gql_directive *directives;
	struct gg_gql_selection *selections;
	struct gg_gql_fragment *next;
	unsigned line, column;
};

struct gg_gql_arena;

struct gg_gql_document {
	struct gg_gql_operation *operations;
	size_t n_operations;
	struct gg_gql_fragment *fragments;
	size_t n_fragments;
	size_t n_nodes; /* what the parse counted against GG_GQL_MAX_NODES */
	struct gg_gql_arena *arena;
};

/* Where and why a parse failed.  line and column are 1-based (0 when the
 * failure has no position, e.g. the text is too long). */
struct gg_gql_error {
	char message[256];
	unsigned line, column;
};

/*
 * Parse len bytes of text (which need not be NUL-terminated; a NUL byte in
 * it is an error).  On success returns 0 and *out, to be freed with
 * gg_gql_document_free().  On failure returns -1, *out is NULL and err (when
 * not NULL) says what went wrong; nothing needs freeing.
 */
int gg_gql_parse(const char *text, size_t len, struct gg_gql_document **out,
		 struct gg_gql_error *err);

void gg_gql_document_free(struct gg_gql_document *doc);

/* The operation named name, or with name NULL the only operation; NULL when
 * there is no such operation or (name NULL) there are several. */
const struct gg_gql_operation *gg_gql_document_operation(const struct gg_gql_document *doc,
							 const char *name);

/* The fragment named name, or NULL. */
const struct gg_gql_fragment *gg_gql_document_fragment(const struct gg_gql_document *doc,
						       const char *name);

/* A type as written ("[String!]!") into buf; returns buf. */
char *gg_gql_type_format(const struct gg_gql_type *type, char *buf, size_t len);

#endif
