/*
 * fuzz_graphql.c - the GraphQL parser (internal-api/graphql_parse.h).
 *
 * POST /api/graphql hands its query text to the parser before anyone is
 * signed in.  On success the tree is walked the way the executor walks it
 * (operations, fragments, variable types); on failure the error must say
 * something and *out must be NULL.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "graphql_parse.h"

static size_t count_selections(const struct gg_gql_selection *s, unsigned depth)
{
	size_t n = 0;

	assert(depth <= GG_GQL_MAX_DEPTH + 1);
	for (; s; s = s->next) {
		n++;
		if (s->kind == GG_GQL_FIELD)
			assert(s->name != NULL);
		n += count_selections(s->selections, depth + 1);
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gg_gql_document *doc = (struct gg_gql_document *)&doc; /* must be reset */
	struct gg_gql_error err;
	char type[256];

	if (gg_gql_parse((const char *)data, size, &doc, &err) < 0) {
		assert(doc == NULL);
		assert(memchr(err.message, '\0', sizeof(err.message)) != NULL);
		assert(err.message[0] != '\0');
		return 0;
	}
	assert(doc->n_nodes <= GG_GQL_MAX_NODES);
	for (const struct gg_gql_operation *op = doc->operations; op; op = op->next) {
		(void)count_selections(op->selections, 0);
		for (const struct gg_gql_variable *v = op->variables; v; v = v->next)
			assert(gg_gql_type_format(v->type, type, sizeof(type)) == type);
		if (op->name)
			assert(gg_gql_document_operation(doc, op->name) != NULL);
	}
	for (const struct gg_gql_fragment *fr = doc->fragments; fr; fr = fr->next) {
		(void)count_selections(fr->selections, 0);
		assert(gg_gql_document_fragment(doc, fr->name) != NULL);
	}
	(void)gg_gql_document_operation(doc, NULL);
	gg_gql_document_free(doc);
	return 0;
}
