/*
 * test_graphql.c - the GraphQL parser (internal-api/graphql_parse.h).
 *
 * The parser reads text from anyone who can reach POST /api/graphql, so
 * besides what it must understand (operations, variables, aliases,
 * arguments, fragments, every kind of value) these tests hold it to refusing
 * what it must not accept, cleanly: unbalanced braces, nesting beyond the
 * limit, huge strings and documents, bad escapes, invalid UTF-8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "graphql_parse.h"

/* Tests abort on out of memory rather than carry a NULL on. */
static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		abort();
	return p;
}

static struct gg_gql_document *parse_ok(const char *text)
{
	struct gg_gql_document *doc = NULL;
	struct gg_gql_error err;

	if (gg_gql_parse(text, strlen(text), &doc, &err) != 0)
		fail_msg("parse failed: %s (text: %s)", err.message, text);
	assert_non_null(doc);
	return doc;
}

/* Parse text that must be refused; returns the error for further checks. */
static struct gg_gql_error parse_fails_n(const char *text, size_t len)
{
	struct gg_gql_document *doc = (void *)1;
	struct gg_gql_error err;

	assert_int_equal(gg_gql_parse(text, len, &doc, &err), -1);
	assert_null(doc);
	assert_true(err.message[0] != '\0');
	return err;
}

static struct gg_gql_error parse_fails(const char *text)
{
	return parse_fails_n(text, strlen(text));
}

static const struct gg_gql_argument *arg(const struct gg_gql_selection *s, const char *name)
{
	for (const struct gg_gql_argument *a = s->args; a; a = a->next)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

static void test_shorthand_query(void **state)
{
	struct gg_gql_document *doc = parse_ok("{ currentUser { id username } }");
	const struct gg_gql_operation *op = gg_gql_document_operation(doc, NULL);
	const struct gg_gql_selection *s;

	assert_non_null(op);
	assert_int_equal(op->type, GG_GQL_QUERY);
	assert_null(op->name);
	s = op->selections;
	assert_int_equal(s->kind, GG_GQL_FIELD);
	assert_string_equal(s->name, "currentUser");
	assert_null(s->alias);
	assert_string_equal(s->selections->name, "id");
	assert_string_equal(s->selections->next->name, "username");
	assert_null(s->selections->next->next);
	assert_null(s->next);
	gg_gql_document_free(doc);
}

static void test_named_query_with_arguments_and_alias(void **state)
{
	struct gg_gql_document *doc =
	    parse_ok("query Find {\n"
		     "  p: project(fullPath: \"group/name\") { id readOnly }\n"
		     "  projects(first: -3, membership: true, search: null) { count }\n"
		     "}");
	const struct gg_gql_operation *op = gg_gql_document_operation(doc, "Find");
	const struct gg_gql_selection *p, *ps;

	assert_non_null(op);
	assert_string_equal(op->name, "Find");
	p = op->selections;
	assert_string_equal(p->alias, "p");
	assert_string_equal(p->name, "project");
	assert_int_equal(arg(p, "fullPath")->value->kind, GG_GQL_VALUE_STRING);
	assert_string_equal(arg(p, "fullPath")->value->text, "group/name");
	assert_int_equal(p->line, 2);
	assert_int_equal(p->column, 3);
	ps = p->next;
	assert_int_equal(arg(ps, "first")->value->kind, GG_GQL_VALUE_INT);
	assert_string_equal(arg(ps, "first")->value->text, "-3");
	assert_int_equal(arg(ps, "membership")->value->kind, GG_GQL_VALUE_BOOLEAN);
	assert_true(arg(ps, "membership")->value->boolean);
	assert_int_equal(arg(ps, "search")->value->kind, GG_GQL_VALUE_NULL);
	assert_null(gg_gql_document_operation(doc, "Other"));
	gg_gql_document_free(doc);
}

static void test_mutation_with_variables(void **state)
{
	struct gg_gql_document *doc =
	    parse_ok("mutation Switch($on: Boolean!, $msg: String = \"soon\", $ids: [ID!]!) {\n"
		     "  updateMaintenanceMode(enabled: $on, message: $msg) { errors }\n"
		     "}");
	const struct gg_gql_operation *op = gg_gql_document_operation(doc, NULL);
	const struct gg_gql_variable *v;
	char type[64];

	assert_int_equal(op->type, GG_GQL_MUTATION);
	v = op->variables;
	assert_string_equal(v->name, "on");
	assert_string_equal(gg_gql_type_format(v->type, type, sizeof(type)), "Boolean!");
	assert_null(v->default_value);
	v = v->next;
	assert_string_equal(v->name, "msg");
	assert_string_equal(gg_gql_type_format(v->type, type, sizeof(type)), "String");
	assert_string_equal(v->default_value->text, "soon");
	v = v->next;
	assert_string_equal(gg_gql_type_format(v->type, type, sizeof(type)), "[ID!]!");
	assert_null(v->next);
	assert_int_equal(arg(op->selections, "enabled")->value->kind, GG_GQL_VALUE_VARIABLE);
	assert_string_equal(arg(op->selections, "enabled")->value->text, "on");
	gg_gql_document_free(doc);
}

static void test_input_objects_lists_enums(void **state)
{
	struct gg_gql_document *doc =
	    parse_ok("mutation { projectCreate(input: {name: \"x\", visibility: public, "
		     "tags: [1, 2.5e3, \"a\", [true]], nested: {deep: $v}}) { errors } }");
	const struct gg_gql_selection *s = gg_gql_document_operation(doc, NULL)->selections;
	const struct gg_gql_value *input = arg(s, "input")->value;
	const struct gg_gql_argument *f;

	assert_int_equal(input->kind, GG_GQL_VALUE_OBJECT);
	f = input->fields;
	assert_string_equal(f->name, "name");
	f = f->next;
	assert_int_equal(f->value->kind, GG_GQL_VALUE_ENUM);
	assert_string_equal(f->value->text, "public");
	f = f->next;
	assert_int_equal(f->value->kind, GG_GQL_VALUE_LIST);
	assert_int_equal(f->value->items->kind, GG_GQL_VALUE_INT);
	assert_int_equal(f->value->items->next->kind, GG_GQL_VALUE_FLOAT);
	assert_string_equal(f->value->items->next->text, "2.5e3");
	assert_int_equal(f->value->items->next->next->next->kind, GG_GQL_VALUE_LIST);
	f = f->next;
	assert_int_equal(f->value->fields->value->kind, GG_GQL_VALUE_VARIABLE);
	gg_gql_document_free(doc);
}

static void test_fragments_and_directives(void **state)
{
	struct gg_gql_document *doc = parse_ok(
	    "query Q($skip: Boolean!) {\n"
	    "  project(fullPath: \"a/b\") { ...Fields ... on Project { name } ... @skip(if: $skip) "
	    "{ path } }\n"
	    "}\n"
	    "fragment Fields on Project { id fullPath @include(if: true) }");
	const struct gg_gql_selection *s =
	    gg_gql_document_operation(doc, "Q")->selections->selections;
	const struct gg_gql_fragment *f = gg_gql_document_fragment(doc, "Fields");

	assert_int_equal(s->kind, GG_GQL_FRAGMENT_SPREAD);
	assert_string_equal(s->name, "Fields");
	s = s->next;
	assert_int_equal(s->kind, GG_GQL_INLINE_FRAGMENT);
	assert_string_equal(s->type_condition, "Project");
	s = s->next;
	assert_int_equal(s->kind, GG_GQL_INLINE_FRAGMENT);
	assert_null(s->type_condition);
	assert_string_equal(s->directives->name, "skip");
	assert_non_null(f);
	assert_string_equal(f->type_condition, "Project");
	assert_string_equal(f->selections->next->directives->name, "include");
	assert_int_equal(doc->n_fragments, 1);
	gg_gql_document_free(doc);
}

static void test_several_operations_need_a_name(void **state)
{
	struct gg_gql_document *doc = parse_ok("query A { a } query B { b }");

	assert_int_equal(doc->n_operations, 2);
	assert_null(gg_gql_document_operation(doc, NULL));
	assert_string_equal(gg_gql_document_operation(doc, "B")->selections->name, "b");
	gg_gql_document_free(doc);
}

static void test_strings_escapes_and_block_strings(void **state)
{
	struct gg_gql_document *doc =
	    parse_ok("{ a(s: \"q\\\" b\\\\ \\n \\u00e9 \\ud83d\\ude00 \\/\") "
		     "b(s: \"\"\"\n    Hello,\n      World!\n\n    Yours \\\"\"\" x\n  \"\"\") }");
	const struct gg_gql_selection *s = gg_gql_document_operation(doc, NULL)->selections;

	assert_string_equal(arg(s, "s")->value->text, "q\" b\\ \n \xc3\xa9 \xf0\x9f\x98\x80 /");
	assert_string_equal(arg(s->next, "s")->value->text, "Hello,\n  World!\n\nYours \"\"\" x");
	gg_gql_document_free(doc);
}

static void test_comments_commas_and_bom_are_ignored(void **state)
{
	struct gg_gql_document *doc = parse_ok("\xef\xbb\xbf# a comment\n{ a, b # another\r\n c }");
	const struct gg_gql_selection *s = gg_gql_document_operation(doc, NULL)->selections;

	assert_string_equal(s->next->next->name, "c");
	assert_int_equal(s->next->next->line, 3);
	gg_gql_document_free(doc);
}

static void test_unbalanced_braces_are_refused(void **state)
{
	struct gg_gql_error err = parse_fails("{ currentUser { id }");

	assert_string_equal(err.message, "Unexpected end of document");
	err = parse_fails("{ currentUser { id } } }");
	assert_string_equal(err.message, "Parse error on \"}\" (RCURLY) at [1, 24]");
	assert_int_equal(err.line, 1);
	assert_int_equal(err.column, 24);
	parse_fails("{ a(x: [1, 2) }");
	parse_fails("{ a(x: {y: 1) }");
	parse_fails("{ a(x: 1 }");
}

static void test_malformed_documents_are_refused(void **state)
{
	static const char *const bad[] = {
	    "",
	    "   # only a comment",
	    "{}",
	    "{ a() }",
	    "query",
	    "query Q($x) { a }",
	    "query Q($x: ) { a }",
	    "query Q(x: Int) { a }",
	    "{ a(x: $) }",
	    "query Q($x: Int = $y) { a }",
	    "{ a: }",
	    "{ a(x: 01) }",
	    "{ a(x: 1.) }",
	    "{ a(x: 1e) }",
	    "{ a(x: 12abc) }",
	    "{ a(x: \"unterminated) }",
	    "{ a(x: \"line\nbreak\") }",
	    "{ a(x: \"bad \\q escape\") }",
	    "{ a(x: \"\\u12\") }",
	    "{ a(x: \"\\ud800\") }",
	    "{ a(x: \"\\u0000\") }",
	    "{ a(x: \"\"\"never closed) }",
	    "{ a % }",
	    "{ a .. }",
	    "fragment on on T { a }",
	    "fragment F { a }",
	    "type Query { a: Int }",
	    "schema { query: Query }",
	    "{ ...on }",
	    "{ a @ }",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct gg_gql_document *doc = NULL;
		struct gg_gql_error err;

		if (gg_gql_parse(bad[i], strlen(bad[i]), &doc, &err) == 0) {
			gg_gql_document_free(doc);
			fail_msg("accepted: %s", bad[i]);
		}
		assert_null(doc);
		assert_true(err.message[0] != '\0');
	}
}

static char *repeat(const char *open, const char *middle, const char *close, size_t n)
{
	size_t lo = strlen(open), lm = strlen(middle), lc = strlen(close);
	char *s = xmalloc(n * (lo + lc) + lm + 1), *p = s;

	for (size_t i = 0; i < n; i++, p += lo)
		memcpy(p, open, lo);
	memcpy(p, middle, lm);
	p += lm;
	for (size_t i = 0; i < n; i++, p += lc)
		memcpy(p, close, lc);
	*p = '\0';
	return s;
}

static void test_nesting_up_to_the_limit_is_accepted(void **state)
{
	/* "{ a { a { ... { b } } } }": GG_GQL_MAX_DEPTH selection sets. */
	char *inner = repeat("a { ", "b", " }", GG_GQL_MAX_DEPTH - 1);
	char *text = xmalloc(strlen(inner) + 8);
	struct gg_gql_document *doc;

	sprintf(text, "{ %s }", inner);
	doc = parse_ok(text);
	gg_gql_document_free(doc);
	free(inner);
	free(text);
}

static void test_deep_nesting_is_refused(void **state)
{
	char *fields = repeat("{ a ", "b", " }", GG_GQL_MAX_DEPTH + 1);
	char *lists = repeat("[", "1", "]", GG_GQL_MAX_DEPTH + 1);
	char *objects = repeat("{x: ", "1", "}", GG_GQL_MAX_DEPTH + 1);
	char *q1 = xmalloc(strlen(lists) + 16), *q2 = xmalloc(strlen(objects) + 16);
	/* Far beyond the limit, within the length limit: the parser must not
	 * recurse that deep. */
	char *huge = repeat("{a", "", "}", 20000);
	struct gg_gql_error err;

	sprintf(q1, "{ a(x: %s) }", lists);
	sprintf(q2, "{ a(x: %s) }", objects);
	/* "{ a { a ... { a b } } }": GG_GQL_MAX_DEPTH + 1 selection sets. */
	err = parse_fails(fields);
	assert_non_null(strstr(err.message, "nesting deeper than"));
	parse_fails(q1);
	parse_fails(q2);
	parse_fails(huge);
	free(fields);
	free(lists);
	free(objects);
	free(q1);
	free(q2);
	free(huge);
}

static void test_huge_strings_and_documents_are_refused(void **state)
{
	size_t n = GG_GQL_MAX_STRING + 10;
	char *text = xmalloc(n + 32);
	struct gg_gql_error err;

	memcpy(text, "{ a(x: \"", 8);
	memset(text + 8, 'x', n);
	memcpy(text + 8 + n, "\") }", 5);
	err = parse_fails(text);
	assert_non_null(strstr(err.message, "string longer than"));
	free(text);

	n = GG_GQL_MAX_LENGTH + 1;
	text = xmalloc(n + 1);
	memset(text, ' ', n);
	text[0] = '{';
	text[1] = 'a';
	text[n - 1] = '}';
	text[n] = '\0';
	err = parse_fails(text);
	assert_non_null(strstr(err.message, "too long"));
	free(text);
}

static void test_too_many_nodes_are_refused(void **state)
{
	size_t n = GG_GQL_MAX_NODES + 10;
	char *text = xmalloc(n * 2 + 8), *p = text;
	struct gg_gql_error err;

	*p++ = '{';
	for (size_t i = 0; i < n; i++) {
		*p++ = ' ';
		*p++ = 'a';
	}
	*p++ = '}';
	*p = '\0';
	err = parse_fails(text);
	assert_non_null(strstr(err.message, "nodes"));
	free(text);
}

static void test_nul_and_invalid_utf8_are_refused(void **state)
{
	static const char with_nul[] = "{ a(x: \"a\0b\") }";
	struct gg_gql_error err;

	err = parse_fails_n(with_nul, sizeof(with_nul) - 1);
	assert_int_equal(err.column, 10);
	parse_fails("{ a(x: \"\xff\") }");
	parse_fails("{ a(x: \"\xc0\xaf\") }");	   /* overlong '/' */
	parse_fails("{ a(x: \"\xed\xa0\x80\") }"); /* a surrogate */
	parse_fails("{ a(x: \"\xe2\x82\") }");	   /* truncated */
}

static void test_error_positions_count_lines(void **state)
{
	struct gg_gql_error err = parse_fails("query {\n  a\n  b(\n}");

	assert_int_equal(err.line, 4);
	assert_int_equal(err.column, 1);
	assert_string_equal(err.message, "Parse error on \"}\" (RCURLY) at [4, 1]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shorthand_query),
	    cmocka_unit_test(test_named_query_with_arguments_and_alias),
	    cmocka_unit_test(test_mutation_with_variables),
	    cmocka_unit_test(test_input_objects_lists_enums),
	    cmocka_unit_test(test_fragments_and_directives),
	    cmocka_unit_test(test_several_operations_need_a_name),
	    cmocka_unit_test(test_strings_escapes_and_block_strings),
	    cmocka_unit_test(test_comments_commas_and_bom_are_ignored),
	    cmocka_unit_test(test_unbalanced_braces_are_refused),
	    cmocka_unit_test(test_malformed_documents_are_refused),
	    cmocka_unit_test(test_nesting_up_to_the_limit_is_accepted),
	    cmocka_unit_test(test_deep_nesting_is_refused),
	    cmocka_unit_test(test_huge_strings_and_documents_are_refused),
	    cmocka_unit_test(test_too_many_nodes_are_refused),
	    cmocka_unit_test(test_nul_and_invalid_utf8_are_refused),
	    cmocka_unit_test(test_error_positions_count_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
