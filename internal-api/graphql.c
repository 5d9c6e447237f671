/*
 * graphql.c - POST (and GET) /api/graphql: a small GraphQL engine.
 *
 * Why it exists: GitLab's clients and the maintenance-mode contract both
 * speak GraphQL (SPEC §4: in maintenance mode queries are answered and every
 * mutation is refused with GG_MSG_READ_ONLY, HTTP 200).  The read-only
 * middleware lets POST /api/graphql through, so this is where that refusal
 * happens: as soon as the operation to run is known, before it is validated
 * or executed.
 *
 * How: graphql_parse.c turns the text into a tree; this file validates the
 * tree against the schema of graphql_schema.c (unknown fields and arguments,
 * missing or impossible selections, undefined fragments, fragment cycles,
 * depth and number of fields, undeclared variables), coerces the variables
 * to their declared types, and executes the selection sets, merging fields
 * asked twice.  The response carries exactly the selected fields, under
 * their aliases, in the order asked; errors follow graphql-ruby's wording,
 * with locations and (for execution errors) paths.  Validation errors answer
 * {"errors": [...]} without data, as GraphQL requires.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "graphql_parse.h"
#include "graphql_schema.h"
#include "log.h"
#include "messages.h"
#include "readonly.h"
#include "rest.h"
#include "route.h"

#define MAX_FIELDS 2000 /* fields visited by validation, fragments expanded */
#define MAX_ERRORS 20
#define MAX_PATH   (2 * GG_GQL_MAX_DEPTH + 8)

/* One execution of one operation. */
struct gg_gql_exec {
	struct gg_http_request *req;
	const struct gg_gql_document *doc;
	const struct gg_gql_operation *op;
	cJSON *variables; /* coerced values, by name */
	cJSON *errors;
	size_t n_errors;
	size_t visited;
	/* Where execution is, for the "path" of errors: keys, or indexes (key NULL). */
	const char *path_key[MAX_PATH];
	int path_index[MAX_PATH];
	size_t path_len;
};

/* ---- errors ---- */

static void add_error_v(struct gg_gql_exec *ex, unsigned line, unsigned column, bool with_path,
			const char *fmt, va_list ap)
{
	char message[512];
	cJSON *e, *loc, *path;

	if (ex->n_errors >= MAX_ERRORS)
		return;
	ex->n_errors++;
	vsnprintf(message, sizeof(message), fmt, ap);
	e = cJSON_CreateObject();
	if (!e || !cJSON_AddItemToArray(ex->errors, e)) {
		cJSON_Delete(e);
		return;
	}
	cJSON_AddStringToObject(e, "message", message);
	if (line) {
		loc = cJSON_CreateObject();
		cJSON_AddNumberToObject(loc, "line", line);
		cJSON_AddNumberToObject(loc, "column", column);
		cJSON_AddItemToArray(cJSON_AddArrayToObject(e, "locations"), loc);
	}
	if (with_path && ex->path_len) {
		path = cJSON_AddArrayToObject(e, "path");
		for (size_t i = 0; path && i < ex->path_len && i < MAX_PATH; i++)
			cJSON_AddItemToArray(path, ex->path_key[i]
						       ? cJSON_CreateString(ex->path_key[i])
						       : cJSON_CreateNumber(ex->path_index[i]));
	}
}

/* An error found before execution (no "path"). */
static void static_error(struct gg_gql_exec *ex, unsigned line, unsigned column, const char *fmt,
			 ...) __attribute__((format(printf, 4, 5)));
static void static_error(struct gg_gql_exec *ex, unsigned line, unsigned column, const char *fmt,
			 ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_error_v(ex, line, column, false, fmt, ap);
	va_end(ap);
}

struct gg_http_request *gg_gql_request(const struct gg_gql_exec *ex)
{
	return ex->req;
}

cJSON *gg_gql_field_error(struct gg_gql_exec *ex, const struct gg_gql_selection *sel,
			  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_error_v(ex, sel->line, sel->column, true, fmt, ap);
	va_end(ap);
	return cJSON_CreateNull();
}

static void path_push(struct gg_gql_exec *ex, const char *key, int index)
{
	if (ex->path_len < MAX_PATH) {
		ex->path_key[ex->path_len] = key;
		ex->path_index[ex->path_len] = index;
	}
	ex->path_len++;
}

static void path_pop(struct gg_gql_exec *ex)
{
	ex->path_len--;
}

/* ---- input types: is a JSON value of a GraphQL input type? ---- */

static bool is_integral(const cJSON *v, double min, double max)
{
	return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
	       v->valuedouble >= min && v->valuedouble <= max;
}

static bool accepts(const char *type, size_t len, const cJSON *v);

/* An input object: only known fields, each of its type, required ones present. */
static bool object_accepts(const struct gg_gql_arg_def *fields, const cJSON *v)
{
	const cJSON *item;

	if (!cJSON_IsObject(v))
		return false;
	cJSON_ArrayForEach(item, v)
	{
		size_t i;

		for (i = 0; fields[i].name; i++)
			if (strcmp(fields[i].name, item->string) == 0)
				break;
		if (!fields[i].name)
			return false;
	}
	for (size_t i = 0; fields[i].name; i++)
		if (!accepts(fields[i].type, strlen(fields[i].type),
			     cJSON_GetObjectItemCaseSensitive(v, fields[i].name)))
			return false;
	return true;
}

/* Is v (NULL: absent) a value of the GraphQL input type type[0..len)? */
static bool accepts(const char *type, size_t len, const cJSON *v)
{
	bool non_null = len > 0 && type[len - 1] == '!';
	const struct gg_gql_input_type *input;

	if (non_null)
		len--;
	if (!v || cJSON_IsNull(v))
		return !non_null;
	if (len >= 2 && type[0] == '[' && type[len - 1] == ']') {
		const cJSON *item;

		if (!cJSON_IsArray(v)) /* a single value stands for a list of one */
			return accepts(type + 1, len - 2, v);
		cJSON_ArrayForEach(item, v)
		{
			if (!accepts(type + 1, len - 2, item))
				return false;
		}
		return true;
	}
	switch (len) {
	case 2: /* ID */
		if (strncmp(type, "ID", 2) == 0)
			return cJSON_IsString(v) || is_integral(v, 0, 9007199254740992.0);
		break;
	case 3: /* Int */
		if (strncmp(type, "Int", 3) == 0)
			return is_integral(v, -2147483648.0, 2147483647.0);
		break;
	case 5: /* Float */
		if (strncmp(type, "Float", 5) == 0)
			return cJSON_IsNumber(v);
		break;
	case 6: /* String */
		if (strncmp(type, "String", 6) == 0)
			return cJSON_IsString(v);
		break;
	case 7: /* Boolean */
		if (strncmp(type, "Boolean", 7) == 0)
			return cJSON_IsBool(v);
		break;
	default:
		break;
	}
	input = gg_gql_input_type(type, len);
	if (!input)
		return false;
	if (input->fields)
		return object_accepts(input->fields, v);
	return input->valid && input->valid(v);
}

static bool is_builtin_scalar(const char *name)
{
	return strcmp(name, "ID") == 0 || strcmp(name, "Int") == 0 || strcmp(name, "Float") == 0 ||
	       strcmp(name, "String") == 0 || strcmp(name, "Boolean") == 0;
}

/* ---- values ---- */

/* A literal or variable as JSON; NULL when it is a variable without a value. */
static cJSON *value_to_json(struct gg_gql_exec *ex, const struct gg_gql_value *v)
{
	cJSON *o, *item;

	switch (v->kind) {
	case GG_GQL_VALUE_NULL:
		return cJSON_CreateNull();
	case GG_GQL_VALUE_INT:
	case GG_GQL_VALUE_FLOAT:
		return cJSON_CreateNumber(strtod(v->text, NULL));
	case GG_GQL_VALUE_STRING:
	case GG_GQL_VALUE_ENUM:
		return cJSON_CreateString(v->text);
	case GG_GQL_VALUE_BOOLEAN:
		return cJSON_CreateBool(v->boolean);
	case GG_GQL_VALUE_VARIABLE:
		item =
		    ex->variables ? cJSON_GetObjectItemCaseSensitive(ex->variables, v->text) : NULL;
		return item ? cJSON_Duplicate(item, true) : NULL;
	case GG_GQL_VALUE_LIST:
		o = cJSON_CreateArray();
		for (const struct gg_gql_value *i = v->items; o && i; i = i->next) {
			item = value_to_json(ex, i);
			cJSON_AddItemToArray(o, item ? item : cJSON_CreateNull());
		}
		return o;
	case GG_GQL_VALUE_OBJECT:
		o = cJSON_CreateObject();
		for (const struct gg_gql_argument *f = v->fields; o && f; f = f->next) {
			if (cJSON_GetObjectItemCaseSensitive(o, f->name))
				continue;
			item = value_to_json(ex, f->value);
			if (item)
				cJSON_AddItemToObject(o, f->name, item);
		}
		return o;
	}
	return NULL;
}

/* The arguments of sel as one JSON object (absent variables left out). */
static cJSON *build_args(struct gg_gql_exec *ex, const struct gg_gql_argument *args)
{
	cJSON *o = cJSON_CreateObject();

	for (const struct gg_gql_argument *a = args; o && a; a = a->next) {
		cJSON *v;

		if (cJSON_GetObjectItemCaseSensitive(o, a->name))
			continue;
		v = value_to_json(ex, a->value);
		if (v)
			cJSON_AddItemToObject(o, a->name, v);
	}
	return o;
}

/* ---- completing values ---- */

/* The default resolver: the parent's json_key, completed for object types. */
static cJSON *resolve_key(struct gg_gql_exec *ex, const cJSON *parent,
			  const struct gg_gql_selection *sel, const struct gg_gql_field_def *f,
			  const cJSON *args)
{
	const cJSON *v = parent ? cJSON_GetObjectItemCaseSensitive(parent, f->json_key) : NULL;
	char gid[96];

	if (!v || cJSON_IsNull(v))
		return cJSON_CreateNull();
	if (f->gid && cJSON_IsNumber(v)) {
		snprintf(gid, sizeof(gid), "gid://gitlab/%s/%.0f", f->gid, v->valuedouble);
		return cJSON_CreateString(gid);
	}
	if (f->object)
		return gg_gql_complete(ex, f->object, v, sel);
	return cJSON_Duplicate(v, true);
}

/* A JSON object (or list of them) as a value of type, with sel's selections. */
static cJSON *execute_selections(struct gg_gql_exec *ex, const struct gg_gql_type_def *type,
				 const cJSON *parent, const struct gg_gql_selection *sels,
				 cJSON *out);

cJSON *gg_gql_complete(struct gg_gql_exec *ex, const struct gg_gql_type_def *type, const cJSON *v,
		       const struct gg_gql_selection *sel)
{
	cJSON *out;

	if (cJSON_IsArray(v)) {
		const cJSON *item;
		int i = 0;

		out = cJSON_CreateArray();
		cJSON_ArrayForEach(item, v)
		{
			cJSON *c;

			path_push(ex, NULL, i++);
			c = gg_gql_complete(ex, type, item, sel);
			path_pop(ex);
			cJSON_AddItemToArray(out, c ? c : cJSON_CreateNull());
		}
		return out;
	}
	if (!cJSON_IsObject(v))
		return cJSON_CreateNull();
	out = cJSON_CreateObject();
	if (out)
		execute_selections(ex, type, v, sel->selections, out);
	return out;
}

cJSON *gg_gql_complete_owned(struct gg_gql_exec *ex, const struct gg_gql_type_def *type, cJSON *v,
			     const struct gg_gql_selection *sel)
{
	cJSON *out = v ? gg_gql_complete(ex, type, v, sel) : cJSON_CreateNull();

	cJSON_Delete(v);
	return out;
}

static const struct gg_gql_field_def *field_named(const struct gg_gql_type_def *type,
						  const char *name)
{
	for (const struct gg_gql_field_def *f = type->fields; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

/* ---- validation ---- */

static const char *operation_label(const struct gg_gql_exec *ex)
{
	return ex->op->name ? ex->op->name : "anonymous query";
}

static bool variable_declared(const struct gg_gql_exec *ex, const char *name)
{
	for (const struct gg_gql_variable *v = ex->op->variables; v; v = v->next)
		if (strcmp(v->name, name) == 0)
			return true;
	return false;
}

static void validate_value(struct gg_gql_exec *ex, const struct gg_gql_value *v)
{
	if (v->kind == GG_GQL_VALUE_VARIABLE && !variable_declared(ex, v->text))
		static_error(ex, v->line, v->column, "Variable $%s is used by %s but not declared",
			     v->text, operation_label(ex));
	for (const struct gg_gql_value *i = v->items; i; i = i->next)
		validate_value(ex, i);
	for (const struct gg_gql_argument *f = v->fields; f; f = f->next)
		validate_value(ex, f->value);
}

static void validate_directives(struct gg_gql_exec *ex, const struct gg_gql_directive *d)
{
	for (; d; d = d->next) {
		if (strcmp(d->name, "include") != 0 && strcmp(d->name, "skip") != 0) {
			static_error(ex, d->line, d->column, "Directive @%s is not defined",
				     d->name);
			continue;
		}
		if (!d->args || strcmp(d->args->name, "if") != 0 || d->args->next) {
			static_error(ex, d->line, d->column,
				     "Directive '%s' is missing required arguments: if", d->name);
			continue;
		}
		validate_value(ex, d->args->value);
	}
}

static void validate_field_args(struct gg_gql_exec *ex, const struct gg_gql_selection *s,
				const struct gg_gql_field_def *f)
{
	for (const struct gg_gql_argument *a = s->args; a; a = a->next) {
		const struct gg_gql_arg_def *d;

		for (d = f->args; d->name; d++)
			if (strcmp(d->name, a->name) == 0)
				break;
		if (!d->name)
			static_error(ex, a->line, a->column,
				     "Field '%s' doesn't accept argument '%s'", f->name, a->name);
		validate_value(ex, a->value);
	}
	for (const struct gg_gql_arg_def *d = f->args; d->name; d++) {
		const struct gg_gql_argument *a;

		if (d->type[strlen(d->type) - 1] != '!')
			continue;
		for (a = s->args; a; a = a->next)
			if (strcmp(a->name, d->name) == 0)
				break;
		if (!a)
			static_error(ex, s->line, s->column,
				     "Field '%s' is missing required arguments: %s", f->name,
				     d->name);
	}
}

static void validate_selections(struct gg_gql_exec *ex, const struct gg_gql_type_def *type,
				const struct gg_gql_selection *sels, unsigned depth)
{
	if (depth > GG_GQL_MAX_DEPTH) {
		static_error(ex, sels->line, sels->column,
			     "Query has depth of %u, which exceeds max depth of %d", depth,
			     GG_GQL_MAX_DEPTH);
		return;
	}
	for (const struct gg_gql_selection *s = sels; s; s = s->next) {
		const struct gg_gql_fragment *frag;
		const struct gg_gql_field_def *f;
		const char *condition;

		if (ex->n_errors >= MAX_ERRORS || ex->visited > MAX_FIELDS)
			return;
		validate_directives(ex, s->directives);
		switch (s->kind) {
		case GG_GQL_FIELD:
			if (++ex->visited > MAX_FIELDS) {
				static_error(ex, s->line, s->column,
					     "Query has complexity of more than %d fields, which "
					     "exceeds the limit",
					     MAX_FIELDS);
				return;
			}
			if (strcmp(s->name, "__typename") == 0) {
				if (s->args || s->selections)
					static_error(ex, s->line, s->column,
						     "Field '__typename' takes no arguments or "
						     "selections");
				continue;
			}
			f = field_named(type, s->name);
			if (!f) {
				static_error(ex, s->line, s->column,
					     "Field '%s' doesn't exist on type '%s'", s->name,
					     type->name);
				continue;
			}
			validate_field_args(ex, s, f);
			if (f->object && !s->selections)
				static_error(ex, s->line, s->column,
					     "Field must have selections (field '%s' returns %s "
					     "but has no selections. Did you mean '%s { ... }'?)",
					     s->name, f->type, s->name);
			else if (!f->object && s->selections)
				static_error(ex, s->line, s->column,
					     "Selections can't be made on scalars (field '%s' "
					     "returns %s but has selections)",
					     s->name, f->type);
			else if (f->object)
				validate_selections(ex, f->object, s->selections, depth + 1);
			break;
		case GG_GQL_FRAGMENT_SPREAD:
		case GG_GQL_INLINE_FRAGMENT:
			frag = NULL;
			condition = s->type_condition;
			if (s->kind == GG_GQL_FRAGMENT_SPREAD) {
				frag = gg_gql_document_fragment(ex->doc, s->name);
				if (!frag) {
					static_error(ex, s->line, s->column,
						     "Fragment %s was used, but not defined",
						     s->name);
					continue;
				}
				condition = frag->type_condition;
				validate_directives(ex, frag->directives);
			}
			if (condition && !gg_gql_type_named(condition)) {
				static_error(ex, s->line, s->column,
					     "No such type %s, so it can't be a fragment condition",
					     condition);
				continue;
			}
			if (!gg_gql_type_condition_matches(type, condition)) {
				static_error(ex, s->line, s->column,
					     "Fragment on %s can't be spread inside %s", condition,
					     type->name);
				continue;
			}
			if (frag && depth + 1 > GG_GQL_MAX_DEPTH) {
				static_error(ex, s->line, s->column,
					     "Fragment %s contains an infinite loop or is nested "
					     "too deeply",
					     frag->name);
				return;
			}
			validate_selections(ex, type, frag ? frag->selections : s->selections,
					    depth + 1);
			break;
		}
	}
}

/* Check the variables given against the operation's definitions; keep them,
 * with defaults filled in, in ex->variables. */
static void coerce_variables(struct gg_gql_exec *ex, const cJSON *given)
{
	for (const struct gg_gql_variable *v = ex->op->variables; v; v = v->next) {
		char type[128];
		const struct gg_gql_type *base = v->type;
		const cJSON *value =
		    cJSON_IsObject(given) ? cJSON_GetObjectItemCaseSensitive(given, v->name) : NULL;
		cJSON *copy = NULL;

		gg_gql_type_format(v->type, type, sizeof(type));
		while (base->of)
			base = base->of;
		if (!base->name || (!is_builtin_scalar(base->name) &&
				    !gg_gql_input_type(base->name, strlen(base->name)))) {
			static_error(ex, v->line, v->column,
				     "%s isn't a defined input type (on $%s)",
				     base->name ? base->name : type, v->name);
			continue;
		}
		if (!value && v->default_value)
			value = copy = value_to_json(ex, v->default_value);
		if (!accepts(type, strlen(type), value)) {
			static_error(ex, v->line, v->column,
				     "Variable $%s of type %s was provided invalid value", v->name,
				     type);
		} else if (value) {
			cJSON_AddItemToObject(ex->variables, v->name,
					      copy ? copy : cJSON_Duplicate(value, true));
			copy = NULL;
		}
		cJSON_Delete(copy);
	}
}

/* ---- execution ---- */

/* @skip(if: true) and @include(if: false) leave a selection out. */
static bool included(struct gg_gql_exec *ex, const struct gg_gql_directive *d)
{
	for (; d; d = d->next) {
		cJSON *v = d->args ? value_to_json(ex, d->args->value) : NULL;
		bool flag = cJSON_IsTrue(v);

		cJSON_Delete(v);
		if ((strcmp(d->name, "skip") == 0) == flag)
			return false;
	}
	return true;
}

/* Check the arguments against their types; a field error when one is wrong. */
static bool args_valid(struct gg_gql_exec *ex, const struct gg_gql_selection *s,
		       const struct gg_gql_field_def *f, const cJSON *args)
{
	for (const struct gg_gql_arg_def *d = f->args; d->name; d++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, d->name);
		char *text;

		if (accepts(d->type, strlen(d->type), v))
			continue;
		text = v ? cJSON_PrintUnformatted(v) : NULL;
		if (text && strlen(text) > 64)
			memcpy(text + 61, "...", 4);
		cJSON_Delete(
		    gg_gql_field_error(ex, s,
				       "Argument '%s' on Field '%s' has an invalid value (%s). "
				       "Expected type '%s'.",
				       d->name, f->name, text ? text : "null", d->type));
		free(text);
		return false;
	}
	return true;
}

/* GraphQL merges fields asked twice under one key ("{ a { x } a { y } }"
 * answers a: {x, y}): keys of value that out[key] lacks are moved over. */
static void add_or_merge(cJSON *out, const char *key, cJSON *value)
{
	cJSON *existing = cJSON_GetObjectItemCaseSensitive(out, key);

	if (!existing) {
		cJSON_AddItemToObject(out, key, value);
		return;
	}
	while (cJSON_IsObject(existing) && cJSON_IsObject(value) && value->child) {
		cJSON *item = cJSON_DetachItemViaPointer(value, value->child);

		add_or_merge(existing, item->string, item);
	}
	cJSON_Delete(value);
}

static cJSON *execute_selections(struct gg_gql_exec *ex, const struct gg_gql_type_def *type,
				 const cJSON *parent, const struct gg_gql_selection *sels,
				 cJSON *out)
{
	for (const struct gg_gql_selection *s = sels; s; s = s->next) {
		const struct gg_gql_fragment *frag;
		const struct gg_gql_field_def *f;
		const char *key;
		cJSON *args, *value = NULL;

		if (!included(ex, s->directives))
			continue;
		switch (s->kind) {
		case GG_GQL_FIELD:
			key = s->alias ? s->alias : s->name;
			if (cJSON_GetObjectItemCaseSensitive(out, key) &&
			    !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(out, key)))
				continue; /* a scalar asked twice: answered already */
			if (strcmp(s->name, "__typename") == 0) {
				cJSON_AddStringToObject(out, key, type->name);
				continue;
			}
			f = field_named(type, s->name);
			if (!f)
				continue; /* validation has said so already */
			path_push(ex, key, 0);
			args = build_args(ex, s->args);
			if (args && args_valid(ex, s, f, args))
				value =
				    (f->resolve ? f->resolve : resolve_key)(ex, parent, s, f, args);
			cJSON_Delete(args);
			add_or_merge(out, key, value ? value : cJSON_CreateNull());
			path_pop(ex);
			break;
		case GG_GQL_FRAGMENT_SPREAD:
			frag = gg_gql_document_fragment(ex->doc, s->name);
			if (frag && included(ex, frag->directives) &&
			    gg_gql_type_condition_matches(type, frag->type_condition))
				execute_selections(ex, type, parent, frag->selections, out);
			break;
		case GG_GQL_INLINE_FRAGMENT:
			if (gg_gql_type_condition_matches(type, s->type_condition))
				execute_selections(ex, type, parent, s->selections, out);
			break;
		}
	}
	return out;
}

/* ---- the endpoint ---- */

static void answer_errors(struct gg_http_response *res, int status, cJSON *errors, bool null_data)
{
	cJSON *o = cJSON_CreateObject();

	if (o && null_data)
		cJSON_AddNullToObject(o, "data");
	if (o)
		cJSON_AddItemToObject(o, "errors", errors);
	else
		cJSON_Delete(errors);
	gg_http_json(res, status, o);
}

static void answer_message(struct gg_http_response *res, int status, const char *message,
			   bool null_data)
{
	cJSON *errors = cJSON_CreateArray();
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "message", message);
	cJSON_AddItemToArray(errors, e);
	answer_errors(res, status, errors, null_data);
}

struct graphql_request {
	const char *query;
	const char *operation_name;
	cJSON *variables; /* owned */
	bool variables_invalid;
};

/* query, variables and operationName from a JSON body, a form, the query
 * string or an application/graphql body. */
static void read_request(struct gg_http_request *req, struct graphql_request *gr)
{
	const cJSON *vars = NULL;
	const char *vars_text = NULL;
	const char *ct = gg_http_header(req, "Content-Type");

	if (cJSON_IsObject(req->json)) {
		const cJSON *q = cJSON_GetObjectItemCaseSensitive(req->json, "query");
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(req->json, "operationName");

		gr->query = cJSON_IsString(q) ? q->valuestring : NULL;
		gr->operation_name = cJSON_IsString(name) ? name->valuestring : NULL;
		vars = cJSON_GetObjectItemCaseSensitive(req->json, "variables");
		if (cJSON_IsString(vars))
			vars_text = vars->valuestring;
		else if (cJSON_IsObject(vars))
			gr->variables = cJSON_Duplicate(vars, true);
		else if (vars && !cJSON_IsNull(vars))
			gr->variables_invalid = true;
	} else if (strcmp(req->method, "POST") == 0 && ct &&
		   strncasecmp(ct, "application/graphql", 19) == 0) {
		gr->query = req->body;
		gr->operation_name = gg_rest_param(req, "operationName");
	} else {
		gr->query = gg_http_param(req, "query");
		gr->operation_name = gg_rest_param(req, "operationName");
		vars_text = gg_rest_param(req, "variables");
	}
	if (vars_text && *vars_text) {
		gr->variables = cJSON_Parse(vars_text);
		if (!cJSON_IsObject(gr->variables) && !cJSON_IsNull(gr->variables))
			gr->variables_invalid = true;
	}
}

static void graphql_handler(struct gg_http_request *req, struct gg_http_response *res)
{
	struct graphql_request gr = {0};
	struct gg_gql_document *doc = NULL;
	struct gg_gql_error perr;
	struct gg_gql_exec ex = {0};
	cJSON *out = NULL, *data;

	ex.req = req;
	read_request(req, &gr);
	if (gr.variables_invalid) {
		answer_message(res, 400, "Variables are invalid JSON", false);
		goto done;
	}
	if (!gr.query || !*gr.query) {
		answer_message(res, 200, GG_MSG_GRAPHQL_NO_QUERY, false);
		goto done;
	}
	ex.errors = cJSON_CreateArray();
	ex.variables = cJSON_CreateObject();
	if (!ex.errors || !ex.variables) {
		gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
		goto done;
	}
	if (gg_gql_parse(gr.query, strlen(gr.query), &doc, &perr) < 0) {
		static_error(&ex, perr.line, perr.column, "%s", perr.message);
		answer_errors(res, 200, ex.errors, false);
		ex.errors = NULL;
		goto done;
	}
	ex.doc = doc;
	ex.op = gg_gql_document_operation(doc, gr.operation_name);
	if (!ex.op) {
		if (gr.operation_name)
			static_error(&ex, 0, 0, "No operation named \"%s\"", gr.operation_name);
		else
			static_error(&ex, 0, 0, "An operation name is required");
		answer_errors(res, 200, ex.errors, false);
		ex.errors = NULL;
		goto done;
	}
	if (ex.op->type == GG_GQL_MUTATION) {
		/* Maintenance mode: refused before anything else is looked at (SPEC §4). */
		if (gg_readonly_active(req)) {
			answer_message(res, 200, GG_MSG_READ_ONLY, true);
			goto done;
		}
		if (strcmp(req->method, "POST") != 0) {
			answer_message(res, 200, GG_MSG_GRAPHQL_GET_MUTATION, true);
			goto done;
		}
	} else if (ex.op->type == GG_GQL_SUBSCRIPTION) {
		answer_message(res, 200, "Subscriptions are not supported", false);
		goto done;
	}
	/* Anonymous operations must stand alone (GraphQL's "lone anonymous operation"). */
	for (const struct gg_gql_operation *op = doc->operations; op; op = op->next)
		if (!op->name && doc->n_operations > 1) {
			static_error(&ex, op->line, op->column,
				     "Operation name is required when multiple operations are "
				     "present");
			break;
		}
	validate_directives(&ex, ex.op->directives);
	validate_selections(
	    &ex, ex.op->type == GG_GQL_MUTATION ? &gg_gql_mutation_type : &gg_gql_query_type,
	    ex.op->selections, 1);
	if (!ex.n_errors)
		coerce_variables(&ex, gr.variables);
	if (ex.n_errors) {
		answer_errors(res, 200, ex.errors, false);
		ex.errors = NULL;
		goto done;
	}
	out = cJSON_CreateObject();
	data = cJSON_AddObjectToObject(out, "data");
	if (!data) {
		gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
		goto done;
	}
	execute_selections(
	    &ex, ex.op->type == GG_GQL_MUTATION ? &gg_gql_mutation_type : &gg_gql_query_type, NULL,
	    ex.op->selections, data);
	if (ex.n_errors) {
		cJSON_AddItemToObject(out, "errors", ex.errors);
		ex.errors = NULL;
	}
	gg_http_json(res, 200, out);
	out = NULL;
done:
	cJSON_Delete(out);
	cJSON_Delete(ex.errors);
	cJSON_Delete(ex.variables);
	cJSON_Delete(gr.variables);
	gg_gql_document_free(doc);
}

const struct gg_route gg_graphql_routes[] = {
    {"POST", "/api/graphql", graphql_handler},
    {"GET", "/api/graphql", graphql_handler},
    {NULL, NULL, NULL},
};
