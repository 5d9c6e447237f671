/*
 * graphql_parse.c - lexer and recursive-descent parser for GraphQL
 * executable documents (see graphql_parse.h for what and why).
 *
 * One token of lookahead, read by lex() through `pos < len` checks only.
 * Every parse_* function returns 0, or -1 once fail() has recorded the
 * first error; callers just pass the -1 up.  Recursion happens only through
 * selection sets, values and list types, and each of those goes through
 * enter()/leave(), so the C stack is bounded by GG_GQL_MAX_DEPTH.
 */
#include "graphql_parse.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Arena: chunks of at least ARENA_CHUNK bytes; everything is freed at once. */
#define ARENA_CHUNK 8192

struct gg_gql_arena {
	struct gg_gql_arena *next;
	size_t used, size;
	max_align_t data[];
};

enum tok_type {
	T_EOF,
	T_BANG,
	T_DOLLAR,
	T_AMP,
	T_LPAREN,
	T_RPAREN,
	T_ELLIPSIS,
	T_COLON,
	T_EQUALS,
	T_AT,
	T_LBRACKET,
	T_RBRACKET,
	T_LBRACE,
	T_PIPE,
	T_RBRACE,
	T_NAME,
	T_INT,
	T_FLOAT,
	T_STRING,
};

/* graphql-ruby's names for the tokens, used in error messages. */
static const char *const tok_names[] = {
    [T_EOF] = "EOF",	       [T_BANG] = "BANG",	  [T_DOLLAR] = "VAR_SIGN",
    [T_AMP] = "AMP",	       [T_LPAREN] = "LPAREN",	  [T_RPAREN] = "RPAREN",
    [T_ELLIPSIS] = "ELLIPSIS", [T_COLON] = "COLON",	  [T_EQUALS] = "EQUALS",
    [T_AT] = "DIR_SIGN",       [T_LBRACKET] = "LBRACKET", [T_RBRACKET] = "RBRACKET",
    [T_LBRACE] = "LCURLY",     [T_PIPE] = "PIPE",	  [T_RBRACE] = "RCURLY",
    [T_NAME] = "IDENTIFIER",   [T_INT] = "INT",		  [T_FLOAT] = "FLOAT",
    [T_STRING] = "STRING",
};

struct token {
	enum tok_type type;
	size_t start, len; /* the token's bytes in the source */
	unsigned line, column;
	char *str; /* T_STRING: the decoded value, in the arena */
};

struct parser {
	const char *src;
	size_t len;
	size_t pos;
	unsigned line;
	size_t line_start;
	struct token tok;
	struct gg_gql_document *doc;
	unsigned depth;
	bool failed;
	struct gg_gql_error *err;
};

static void *arena_alloc(struct parser *p, size_t size);

static int fail_at(struct parser *p, unsigned line, unsigned column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(struct parser *p, unsigned line, unsigned column, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return -1;
	p->failed = true;
	if (!p->err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
	va_end(ap);
	p->err->line = line;
	p->err->column = column;
	return -1;
}

static unsigned column_of(const struct parser *p, size_t pos)
{
	size_t col = pos - p->line_start + 1;

	return col > UINT32_MAX ? UINT32_MAX : (unsigned)col;
}

/* The current token is not what the grammar allows here. */
static int fail_token(struct parser *p)
{
	char shown[48];
	size_t n = 0;
	size_t start = p->tok.start, len = p->tok.len;

	if (p->tok.type == T_EOF)
		return fail_at(p, p->tok.line, p->tok.column, "Unexpected end of document");
	if (p->tok.type == T_STRING) {
		/* Show the value between the quotes, as graphql-ruby does. */
		size_t q = (len >= 6 && p->src[start + 1] == '"') ? 3 : 1;
		start += q;
		len = len >= 2 * q ? len - 2 * q : 0;
	}
	for (size_t i = 0; i < len && n < sizeof(shown) - 4; i++) {
		unsigned char c = (unsigned char)p->src[start + i];
		shown[n++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
	}
	if (len > n) {
		memcpy(shown + n, "...", 3);
		n += 3;
	}
	shown[n] = '\0';
	return fail_at(p, p->tok.line, p->tok.column, "Parse error on \"%s\" (%s) at [%u, %u]",
		       shown, tok_names[p->tok.type], p->tok.line, p->tok.column);
}

static int enter(struct parser *p)
{
	if (++p->depth > GG_GQL_MAX_DEPTH)
		return fail_at(p, p->tok.line, p->tok.column,
			       "Parse error: nesting deeper than %d levels at [%u, %u]",
			       GG_GQL_MAX_DEPTH, p->tok.line, p->tok.column);
	return 0;
}

static void leave(struct parser *p)
{
	p->depth--;
}

static void *arena_alloc(struct parser *p, size_t size)
{
	struct gg_gql_arena *a = p->doc->arena;
	const size_t align = sizeof(max_align_t);
	void *mem;

	size = (size + align - 1) / align * align;
	if (!a || a->size - a->used < size) {
		size_t chunk = size > ARENA_CHUNK ? size : ARENA_CHUNK;

		a = calloc(1, sizeof(*a) + chunk);
		if (!a) {
			fail_at(p, 0, 0, "Out of memory");
			return NULL;
		}
		a->size = chunk;
		a->next = p->doc->arena;
		p->doc->arena = a;
	}
	mem = (char *)a->data + a->used;
	a->used += size;
	return mem;
}

/* A new zeroed node, counted against GG_GQL_MAX_NODES. */
static void *new_node(struct parser *p, size_t size)
{
	if (++p->doc->n_nodes > GG_GQL_MAX_NODES) {
		fail_at(p, p->tok.line, p->tok.column,
			"Parse error: more than %d nodes in the document", GG_GQL_MAX_NODES);
		return NULL;
	}
	return arena_alloc(p, size);
}

static char *arena_strndup(struct parser *p, const char *s, size_t n)
{
	char *d = arena_alloc(p, n + 1);

	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* ---- lexer ---- */

static bool is_name_start(char c)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char peek_at(const struct parser *p, size_t pos)
{
	return pos < p->len ? p->src[pos] : '\0';
}

static void newline(struct parser *p, size_t next_pos)
{
	p->line++;
	p->line_start = next_pos;
}

/* Whitespace, line terminators, commas, comments and a byte order mark. */
static void skip_ignored(struct parser *p)
{
	while (p->pos < p->len) {
		char c = p->src[p->pos];

		if (c == ' ' || c == '\t' || c == ',') {
			p->pos++;
		} else if (c == '\n') {
			p->pos++;
			newline(p, p->pos);
		} else if (c == '\r') {
			p->pos++;
			if (peek_at(p, p->pos) == '\n')
				p->pos++;
			newline(p, p->pos);
		} else if (c == '#') {
			while (p->pos < p->len && p->src[p->pos] != '\n' && p->src[p->pos] != '\r')
				p->pos++;
		} else if ((unsigned char)c == 0xef &&
			   (unsigned char)peek_at(p, p->pos + 1) == 0xbb &&
			   (unsigned char)peek_at(p, p->pos + 2) == 0xbf) {
			p->pos += 3;
		} else {
			break;
		}
	}
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int read_hex4(const char *s, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		int h = hex_value(s[i]);
		if (h < 0)
			return -1;
		v = v << 4 | (unsigned)h;
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int string_too_long(struct parser *p)
{
	return fail_at(p, p->tok.line, p->tok.column,
		       "Parse error: string longer than %d bytes at [%u, %u]", GG_GQL_MAX_STRING,
		       p->tok.line, p->tok.column);
}

/* "..." with escapes.  The decoded value is never longer than the text. */
static int lex_string(struct parser *p)
{
	size_t i = p->pos + 1, end;
	char *out;
	size_t n = 0;

	for (;;) {
		char c = peek_at(p, i);

		if (i >= p->len || c == '\n' || c == '\r')
			return fail_at(p, p->tok.line, p->tok.column,
				       "Parse error: unterminated string at [%u, %u]", p->tok.line,
				       p->tok.column);
		if (c == '"')
			break;
		if (c == '\\')
			i++;
		i++;
		if (i - p->pos > GG_GQL_MAX_STRING)
			return string_too_long(p);
	}
	end = i;
	out = arena_alloc(p, end - p->pos);
	if (!out)
		return -1;
	for (i = p->pos + 1; i < end; i++) {
		unsigned char c = (unsigned char)p->src[i];
		unsigned cp, lo;

		if (c < 0x20 && c != '\t')
			goto bad_char;
		if (c != '\\') {
			out[n++] = (char)c;
			continue;
		}
		c = (unsigned char)p->src[++i];
		switch (c) {
		case '"':
			out[n++] = '"';
			break;
		case '\\':
			out[n++] = '\\';
			break;
		case '/':
			out[n++] = '/';
			break;
		case 'b':
			out[n++] = '\b';
			break;
		case 'f':
			out[n++] = '\f';
			break;
		case 'n':
			out[n++] = '\n';
			break;
		case 'r':
			out[n++] = '\r';
			break;
		case 't':
			out[n++] = '\t';
			break;
		case 'u':
			if (end - i < 5 || read_hex4(p->src + i + 1, &cp) < 0)
				goto bad_escape;
			i += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				/* A surrogate pair written as two escapes. */
				if (end - i < 7 || p->src[i + 1] != '\\' || p->src[i + 2] != 'u' ||
				    read_hex4(p->src + i + 3, &lo) < 0 || lo < 0xdc00 ||
				    lo > 0xdfff)
					goto bad_escape;
				i += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				goto bad_escape;
			}
			if (cp == 0) /* would cut the C string short */
				goto bad_escape;
			n += put_utf8(out + n, cp);
			break;
		default:
			goto bad_escape;
		}
	}
	out[n] = '\0';
	p->tok.str = out;
	p->pos = end + 1;
	return 0;

bad_escape:
	return fail_at(p, p->line, column_of(p, i), "Parse error: bad escape sequence at [%u, %u]",
		       p->line, column_of(p, i));
bad_char:
	return fail_at(p, p->line, column_of(p, i),
		       "Parse error: control character in string at [%u, %u]", p->line,
		       column_of(p, i));
}

static bool is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

/* The length of the line terminator at s[i] (0 when there is none). */
static size_t eol_len(const char *s, size_t n, size_t i)
{
	if (s[i] == '\n')
		return 1;
	if (s[i] == '\r')
		return (i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
	return 0;
}

/*
 * """...""": raw text, only \""" escaped, then the common indentation and
 * leading/trailing blank lines removed (the spec's BlockStringValue).
 */
static int lex_block_string(struct parser *p)
{
	size_t i = p->pos + 3, end;
	char *raw, *out;
	size_t rn = 0, n = 0, common = SIZE_MAX;
	size_t first_line = 0, last_line = 0, nlines = 0;

	for (;;) {
		if (i + 2 >= p->len)
			return fail_at(p, p->tok.line, p->tok.column,
				       "Parse error: unterminated string at [%u, %u]", p->tok.line,
				       p->tok.column);
		if (p->src[i] == '"' && p->src[i + 1] == '"' && p->src[i + 2] == '"')
			break;
		if (p->src[i] == '\\' && i + 3 < p->len && p->src[i + 1] == '"' &&
		    p->src[i + 2] == '"' && p->src[i + 3] == '"')
			i += 4;
		else
			i++;
		if (i - p->pos > GG_GQL_MAX_STRING)
			return string_too_long(p);
	}
	end = i;
	raw = arena_alloc(p, end - p->pos);
	out = arena_alloc(p, end - p->pos);
	if (!raw || !out)
		return -1;
	for (i = p->pos + 3; i < end; i++) {
		unsigned char c = (unsigned char)p->src[i];

		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			return fail_at(p, p->line, column_of(p, i),
				       "Parse error: control character in string at [%u, %u]",
				       p->line, column_of(p, i));
		if (c == '\\' && i + 3 < end && p->src[i + 1] == '"' && p->src[i + 2] == '"' &&
		    p->src[i + 3] == '"') {
			memcpy(raw + rn, "\"\"\"", 3);
			rn += 3;
			i += 3;
			continue;
		}
		raw[rn++] = (char)c;
	}
	/* The common indentation of every line but the first that is not blank. */
	for (size_t ls = 0, ln = 0; ls <= rn; ln++) {
		size_t le = ls, ind = 0;

		while (le < rn && raw[le] != '\n' && raw[le] != '\r')
			le++;
		while (ls + ind < le && (raw[ls + ind] == ' ' || raw[ls + ind] == '\t'))
			ind++;
		if (ln > 0 && ind < le - ls && ind < common)
			common = ind;
		nlines = ln + 1;
		if (le >= rn)
			break;
		ls = le + eol_len(raw, rn, le);
	}
	/* Which lines to keep: drop blank ones at the start and at the end. */
	first_line = nlines;
	last_line = 0;
	for (size_t ls = 0, ln = 0; ls <= rn; ln++) {
		size_t le = ls, skip = 0;

		while (le < rn && raw[le] != '\n' && raw[le] != '\r')
			le++;
		if (ln > 0 && common != SIZE_MAX)
			skip = common < le - ls ? common : le - ls;
		if (!is_blank(raw + ls + skip, le - ls - skip)) {
			if (first_line == nlines)
				first_line = ln;
			last_line = ln;
		}
		if (le >= rn)
			break;
		ls = le + eol_len(raw, rn, le);
	}
	for (size_t ls = 0, ln = 0; ls <= rn && first_line < nlines; ln++) {
		size_t le = ls, skip = 0;

		while (le < rn && raw[le] != '\n' && raw[le] != '\r')
			le++;
		if (ln > 0 && common != SIZE_MAX)
			skip = common < le - ls ? common : le - ls;
		if (ln >= first_line && ln <= last_line) {
			if (ln > first_line)
				out[n++] = '\n';
			memcpy(out + n, raw + ls + skip, le - ls - skip);
			n += le - ls - skip;
		}
		if (le >= rn)
			break;
		ls = le + eol_len(raw, rn, le);
	}
	out[n] = '\0';
	p->tok.str = out;
	/* Line terminators inside the block still count for positions. */
	for (i = p->pos + 3; i < end; i++) {
		size_t el = eol_len(p->src, end, i);
		if (el) {
			i += el - 1;
			newline(p, i + 1);
		}
	}
	p->pos = end + 3;
	return 0;
}

static int lex_number(struct parser *p)
{
	size_t i = p->pos;
	bool is_float = false;

	if (p->src[i] == '-')
		i++;
	if (peek_at(p, i) == '0') {
		i++;
		if (is_digit(peek_at(p, i)))
			goto bad;
	} else if (is_digit(peek_at(p, i))) {
		while (is_digit(peek_at(p, i)))
			i++;
	} else {
		goto bad;
	}
	if (peek_at(p, i) == '.') {
		is_float = true;
		i++;
		if (!is_digit(peek_at(p, i)))
			goto bad;
		while (is_digit(peek_at(p, i)))
			i++;
	}
	if (peek_at(p, i) == 'e' || peek_at(p, i) == 'E') {
		is_float = true;
		i++;
		if (peek_at(p, i) == '+' || peek_at(p, i) == '-')
			i++;
		if (!is_digit(peek_at(p, i)))
			goto bad;
		while (is_digit(peek_at(p, i)))
			i++;
	}
	if (peek_at(p, i) == '.' || is_name_start(peek_at(p, i)))
		goto bad;
	if (i - p->pos > 64)
		return fail_at(p, p->tok.line, p->tok.column,
			       "Parse error: number too long at [%u, %u]", p->tok.line,
			       p->tok.column);
	p->tok.type = is_float ? T_FLOAT : T_INT;
	p->pos = i;
	return 0;
bad:
	return fail_at(p, p->tok.line, p->tok.column, "Parse error: bad number at [%u, %u]",
		       p->tok.line, p->tok.column);
}

/* Read the next token into p->tok. */
static int lex(struct parser *p)
{
	char c;
	int rc = 0;

	skip_ignored(p);
	p->tok.start = p->pos;
	p->tok.line = p->line;
	p->tok.column = column_of(p, p->pos);
	p->tok.str = NULL;
	if (p->pos >= p->len) {
		p->tok.type = T_EOF;
		p->tok.len = 0;
		return 0;
	}
	c = p->src[p->pos];
	switch (c) {
	case '!':
		p->tok.type = T_BANG;
		p->pos++;
		break;
	case '$':
		p->tok.type = T_DOLLAR;
		p->pos++;
		break;
	case '&':
		p->tok.type = T_AMP;
		p->pos++;
		break;
	case '(':
		p->tok.type = T_LPAREN;
		p->pos++;
		break;
	case ')':
		p->tok.type = T_RPAREN;
		p->pos++;
		break;
	case ':':
		p->tok.type = T_COLON;
		p->pos++;
		break;
	case '=':
		p->tok.type = T_EQUALS;
		p->pos++;
		break;
	case '@':
		p->tok.type = T_AT;
		p->pos++;
		break;
	case '[':
		p->tok.type = T_LBRACKET;
		p->pos++;
		break;
	case ']':
		p->tok.type = T_RBRACKET;
		p->pos++;
		break;
	case '{':
		p->tok.type = T_LBRACE;
		p->pos++;
		break;
	case '|':
		p->tok.type = T_PIPE;
		p->pos++;
		break;
	case '}':
		p->tok.type = T_RBRACE;
		p->pos++;
		break;
	case '.':
		if (peek_at(p, p->pos + 1) != '.' || peek_at(p, p->pos + 2) != '.')
			goto unknown;
		p->tok.type = T_ELLIPSIS;
		p->pos += 3;
		break;
	case '"':
		p->tok.type = T_STRING;
		if (peek_at(p, p->pos + 1) == '"' && peek_at(p, p->pos + 2) == '"')
			rc = lex_block_string(p);
		else
			rc = lex_string(p);
		break;
	default:
		if (c == '-' || is_digit(c)) {
			rc = lex_number(p);
		} else if (is_name_start(c)) {
			while (p->pos < p->len && is_name_char(p->src[p->pos]))
				p->pos++;
			p->tok.type = T_NAME;
		} else {
			goto unknown;
		}
	}
	p->tok.len = p->pos - p->tok.start;
	return rc;

unknown:
	if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
		return fail_at(p, p->tok.line, p->tok.column,
			       "Parse error on \"%c\" (UNKNOWN_CHAR) at [%u, %u]", c, p->tok.line,
			       p->tok.column);
	return fail_at(p, p->tok.line, p->tok.column,
		       "Parse error on unexpected character 0x%02x at [%u, %u]", (unsigned char)c,
		       p->tok.line, p->tok.column);
}

/* ---- parser ---- */

static bool tok_is(const struct parser *p, enum tok_type type)
{
	return p->tok.type == type;
}

static bool tok_is_name(const struct parser *p, const char *name)
{
	size_t n = strlen(name);

	return p->tok.type == T_NAME && p->tok.len == n &&
	       memcmp(p->src + p->tok.start, name, n) == 0;
}

static int expect(struct parser *p, enum tok_type type)
{
	if (p->tok.type != type)
		return fail_token(p);
	return lex(p);
}

static int parse_name(struct parser *p, const char **out)
{
	if (p->tok.type != T_NAME)
		return fail_token(p);
	*out = arena_strndup(p, p->src + p->tok.start, p->tok.len);
	if (!*out)
		return -1;
	return lex(p);
}

static int parse_value(struct parser *p, bool is_const, struct gg_gql_value **out);

static int parse_object_fields(struct parser *p, bool is_const, struct gg_gql_argument **out)
{
	struct gg_gql_argument **tail = out;

	if (lex(p) < 0) /* '{' */
		return -1;
	while (!tok_is(p, T_RBRACE)) {
		struct gg_gql_argument *f = new_node(p, sizeof(*f));

		if (!f)
			return -1;
		f->line = p->tok.line;
		f->column = p->tok.column;
		if (parse_name(p, &f->name) < 0 || expect(p, T_COLON) < 0 ||
		    parse_value(p, is_const, &f->value) < 0)
			return -1;
		*tail = f;
		tail = &f->next;
	}
	return lex(p); /* '}' */
}

static int parse_value(struct parser *p, bool is_const, struct gg_gql_value **out)
{
	struct gg_gql_value *v;
	int rc = -1;

	if (enter(p) < 0)
		return -1;
	v = new_node(p, sizeof(*v));
	if (!v)
		goto done;
	v->line = p->tok.line;
	v->column = p->tok.column;
	switch (p->tok.type) {
	case T_DOLLAR:
		if (is_const) {
			fail_token(p);
			goto done;
		}
		if (lex(p) < 0)
			goto done;
		v->kind = GG_GQL_VALUE_VARIABLE;
		if (parse_name(p, &v->text) < 0)
			goto done;
		break;
	case T_INT:
	case T_FLOAT:
		v->kind = tok_is(p, T_INT) ? GG_GQL_VALUE_INT : GG_GQL_VALUE_FLOAT;
		v->text = arena_strndup(p, p->src + p->tok.start, p->tok.len);
		if (!v->text || lex(p) < 0)
			goto done;
		break;
	case T_STRING:
		v->kind = GG_GQL_VALUE_STRING;
		v->text = p->tok.str;
		if (lex(p) < 0)
			goto done;
		break;
	case T_NAME:
		if (tok_is_name(p, "true") || tok_is_name(p, "false")) {
			v->kind = GG_GQL_VALUE_BOOLEAN;
			v->boolean = tok_is_name(p, "true");
			if (lex(p) < 0)
				goto done;
		} else if (tok_is_name(p, "null")) {
			v->kind = GG_GQL_VALUE_NULL;
			if (lex(p) < 0)
				goto done;
		} else {
			v->kind = GG_GQL_VALUE_ENUM;
			if (parse_name(p, &v->text) < 0)
				goto done;
		}
		break;
	case T_LBRACKET: {
		struct gg_gql_value **tail = &v->items;

		v->kind = GG_GQL_VALUE_LIST;
		if (lex(p) < 0)
			goto done;
		while (!tok_is(p, T_RBRACKET)) {
			if (parse_value(p, is_const, tail) < 0)
				goto done;
			tail = &(*tail)->next;
		}
		if (lex(p) < 0)
			goto done;
		break;
	}
	case T_LBRACE:
		v->kind = GG_GQL_VALUE_OBJECT;
		if (parse_object_fields(p, is_const, &v->fields) < 0)
			goto done;
		break;
	default:
		fail_token(p);
		goto done;
	}
	*out = v;
	rc = 0;
done:
	leave(p);
	return rc;
}

/* "(name: value, ...)": at least one argument. */
static int parse_arguments(struct parser *p, bool is_const, struct gg_gql_argument **out)
{
	struct gg_gql_argument **tail = out;

	if (expect(p, T_LPAREN) < 0)
		return -1;
	do {
		struct gg_gql_argument *a = new_node(p, sizeof(*a));

		if (!a)
			return -1;
		a->line = p->tok.line;
		a->column = p->tok.column;
		if (parse_name(p, &a->name) < 0 || expect(p, T_COLON) < 0 ||
		    parse_value(p, is_const, &a->value) < 0)
			return -1;
		*tail = a;
		tail = &a->next;
	} while (!tok_is(p, T_RPAREN));
	return lex(p);
}

static int parse_directives(struct parser *p, bool is_const, struct gg_gql_directive **out)
{
	struct gg_gql_directive **tail = out;

	while (tok_is(p, T_AT)) {
		struct gg_gql_directive *d = new_node(p, sizeof(*d));

		if (!d)
			return -1;
		d->line = p->tok.line;
		d->column = p->tok.column;
		if (lex(p) < 0 || parse_name(p, &d->name) < 0)
			return -1;
		if (tok_is(p, T_LPAREN) && parse_arguments(p, is_const, &d->args) < 0)
			return -1;
		*tail = d;
		tail = &d->next;
	}
	return 0;
}

static int parse_type(struct parser *p, struct gg_gql_type **out)
{
	struct gg_gql_type *t;
	int rc = -1;

	if (enter(p) < 0)
		return -1;
	t = new_node(p, sizeof(*t));
	if (!t)
		goto done;
	if (tok_is(p, T_LBRACKET)) {
		if (lex(p) < 0 || parse_type(p, &t->of) < 0 || expect(p, T_RBRACKET) < 0)
			goto done;
	} else if (parse_name(p, &t->name) < 0) {
		goto done;
	}
	if (tok_is(p, T_BANG)) {
		t->non_null = true;
		if (lex(p) < 0)
			goto done;
	}
	*out = t;
	rc = 0;
done:
	leave(p);
	return rc;
}

static int parse_variable_definitions(struct parser *p, struct gg_gql_variable **out)
{
	struct gg_gql_variable **tail = out;

	if (lex(p) < 0) /* '(' */
		return -1;
	do {
		struct gg_gql_variable *v = new_node(p, sizeof(*v));

		if (!v)
			return -1;
		v->line = p->tok.line;
		v->column = p->tok.column;
		if (expect(p, T_DOLLAR) < 0 || parse_name(p, &v->name) < 0 ||
		    expect(p, T_COLON) < 0 || parse_type(p, &v->type) < 0)
			return -1;
		if (tok_is(p, T_EQUALS) &&
		    (lex(p) < 0 || parse_value(p, true, &v->default_value) < 0))
			return -1;
		if (parse_directives(p, true, &v->directives) < 0)
			return -1;
		*tail = v;
		tail = &v->next;
	} while (!tok_is(p, T_RPAREN));
	return lex(p);
}

static int parse_selection_set(struct parser *p, struct gg_gql_selection **out);

static int parse_selection(struct parser *p, struct gg_gql_selection **out)
{
	struct gg_gql_selection *s = new_node(p, sizeof(*s));

	if (!s)
		return -1;
	s->line = p->tok.line;
	s->column = p->tok.column;
	if (tok_is(p, T_ELLIPSIS)) {
		if (lex(p) < 0)
			return -1;
		if (tok_is(p, T_NAME) && !tok_is_name(p, "on")) {
			s->kind = GG_GQL_FRAGMENT_SPREAD;
			if (parse_name(p, &s->name) < 0 ||
			    parse_directives(p, false, &s->directives) < 0)
				return -1;
		} else {
			s->kind = GG_GQL_INLINE_FRAGMENT;
			if (tok_is_name(p, "on") &&
			    (lex(p) < 0 || parse_name(p, &s->type_condition) < 0))
				return -1;
			if (parse_directives(p, false, &s->directives) < 0 ||
			    parse_selection_set(p, &s->selections) < 0)
				return -1;
		}
		*out = s;
		return 0;
	}
	s->kind = GG_GQL_FIELD;
	if (parse_name(p, &s->name) < 0)
		return -1;
	if (tok_is(p, T_COLON)) {
		s->alias = s->name;
		if (lex(p) < 0 || parse_name(p, &s->name) < 0)
			return -1;
	}
	if (tok_is(p, T_LPAREN) && parse_arguments(p, false, &s->args) < 0)
		return -1;
	if (parse_directives(p, false, &s->directives) < 0)
		return -1;
	if (tok_is(p, T_LBRACE) && parse_selection_set(p, &s->selections) < 0)
		return -1;
	*out = s;
	return 0;
}

/* "{ selection ... }": at least one selection. */
static int parse_selection_set(struct parser *p, struct gg_gql_selection **out)
{
	struct gg_gql_selection **tail = out;
	int rc = -1;

	if (enter(p) < 0)
		return -1;
	if (expect(p, T_LBRACE) < 0)
		goto done;
	do {
		if (parse_selection(p, tail) < 0)
			goto done;
		tail = &(*tail)->next;
	} while (!tok_is(p, T_RBRACE));
	rc = lex(p);
done:
	leave(p);
	return rc;
}

static int parse_operation(struct parser *p, struct gg_gql_operation **out)
{
	struct gg_gql_operation *op = new_node(p, sizeof(*op));

	if (!op)
		return -1;
	op->line = p->tok.line;
	op->column = p->tok.column;
	op->type = GG_GQL_QUERY;
	if (!tok_is(p, T_LBRACE)) { /* not the "{ ... }" shorthand */
		if (tok_is_name(p, "mutation"))
			op->type = GG_GQL_MUTATION;
		else if (tok_is_name(p, "subscription"))
			op->type = GG_GQL_SUBSCRIPTION;
		if (lex(p) < 0)
			return -1;
		if (tok_is(p, T_NAME) && parse_name(p, &op->name) < 0)
			return -1;
		if (tok_is(p, T_LPAREN) && parse_variable_definitions(p, &op->variables) < 0)
			return -1;
		if (parse_directives(p, false, &op->directives) < 0)
			return -1;
	}
	if (parse_selection_set(p, &op->selections) < 0)
		return -1;
	*out = op;
	return 0;
}

static int parse_fragment(struct parser *p, struct gg_gql_fragment **out)
{
	struct gg_gql_fragment *f = new_node(p, sizeof(*f));

	if (!f)
		return -1;
	f->line = p->tok.line;
	f->column = p->tok.column;
	if (lex(p) < 0) /* "fragment" */
		return -1;
	if (tok_is_name(p, "on"))
		return fail_token(p);
	if (parse_name(p, &f->name) < 0)
		return -1;
	if (!tok_is_name(p, "on"))
		return fail_token(p);
	if (lex(p) < 0 || parse_name(p, &f->type_condition) < 0 ||
	    parse_directives(p, false, &f->directives) < 0 ||
	    parse_selection_set(p, &f->selections) < 0)
		return -1;
	*out = f;
	return 0;
}

static int parse_document(struct parser *p)
{
	struct gg_gql_operation **op_tail = &p->doc->operations;
	struct gg_gql_fragment **frag_tail = &p->doc->fragments;

	if (lex(p) < 0)
		return -1;
	if (tok_is(p, T_EOF))
		return fail_token(p);
	while (!tok_is(p, T_EOF)) {
		if (tok_is(p, T_LBRACE) || tok_is_name(p, "query") || tok_is_name(p, "mutation") ||
		    tok_is_name(p, "subscription")) {
			if (parse_operation(p, op_tail) < 0)
				return -1;
			op_tail = &(*op_tail)->next;
			p->doc->n_operations++;
		} else if (tok_is_name(p, "fragment")) {
			if (parse_fragment(p, frag_tail) < 0)
				return -1;
			frag_tail = &(*frag_tail)->next;
			p->doc->n_fragments++;
		} else {
			return fail_token(p);
		}
	}
	return 0;
}

/* Well-formed UTF-8 without NUL bytes, overlong forms or surrogates.
 * Returns the offset of the first bad byte, or len. */
static size_t utf8_check(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned cp;

		if (c == 0)
			return i;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return i;
		}
		if (len - i <= n)
			return i;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += n + 1;
	}
	return len;
}

void gg_gql_document_free(struct gg_gql_document *doc)
{
	struct gg_gql_arena *a, *next;

	if (!doc)
		return;
	for (a = doc->arena; a; a = next) {
		next = a->next;
		free(a);
	}
	free(doc);
}

int gg_gql_parse(const char *text, size_t len, struct gg_gql_document **out,
		 struct gg_gql_error *err)
{
	struct parser p = {0};
	size_t bad;
	int rc = -1;

	*out = NULL;
	if (err)
		memset(err, 0, sizeof(*err));
	p.err = err;
	p.src = text;
	p.len = len;
	p.line = 1;
	p.doc = calloc(1, sizeof(*p.doc));
	if (!p.doc) {
		fail_at(&p, 0, 0, "Out of memory");
		return -1;
	}
	if (len > GG_GQL_MAX_LENGTH) {
		fail_at(&p, 0, 0, "Query too long: %zu bytes, at most %d are accepted", len,
			GG_GQL_MAX_LENGTH);
		goto done;
	}
	bad = utf8_check((const unsigned char *)text, len);
	if (bad < len) {
		/* Say where, counting lines up to the bad byte. */
		for (size_t i = 0; i < bad; i++) {
			size_t el = eol_len(text, bad, i);
			if (el) {
				i += el - 1;
				newline(&p, i + 1);
			}
		}
		fail_at(&p, p.line, column_of(&p, bad),
			"Parse error: invalid UTF-8 or NUL byte at [%u, %u]", p.line,
			column_of(&p, bad));
		goto done;
	}
	rc = parse_document(&p);
done:
	if (rc < 0) {
		gg_gql_document_free(p.doc);
		return -1;
	}
	*out = p.doc;
	return 0;
}

const struct gg_gql_operation *gg_gql_document_operation(const struct gg_gql_document *doc,
							 const char *name)
{
	if (!name)
		return doc->n_operations == 1 ? doc->operations : NULL;
	for (const struct gg_gql_operation *op = doc->operations; op; op = op->next)
		if (op->name && strcmp(op->name, name) == 0)
			return op;
	return NULL;
}

const struct gg_gql_fragment *gg_gql_document_fragment(const struct gg_gql_document *doc,
						       const char *name)
{
	for (const struct gg_gql_fragment *f = doc->fragments; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

/* Append type as written to buf (len bytes), from *n on; truncates safely. */
static void type_format(const struct gg_gql_type *type, char *buf, size_t len, size_t *n)
{
	if (type->name) {
		int w = snprintf(buf + *n, len - *n, "%s", type->name);
		*n = (w < 0 || (size_t)w >= len - *n) ? len - 1 : *n + (size_t)w;
	} else {
		if (*n < len - 1)
			buf[(*n)++] = '[';
		if (type->of)
			type_format(type->of, buf, len, n);
		if (*n < len - 1)
			buf[(*n)++] = ']';
	}
	if (type->non_null && *n < len - 1)
		buf[(*n)++] = '!';
	buf[*n] = '\0';
}

char *gg_gql_type_format(const struct gg_gql_type *type, char *buf, size_t len)
{
	size_t n = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	type_format(type, buf, len, &n);
	return buf;
}
