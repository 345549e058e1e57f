/* The one strict JSON (RFC 8259) validator of the tests, the tools and the fuzz harnesses.
 *
 *   jsoncheck_error(s, n, flags, &at)   NULL when s[0, n) is exactly one JSON value (blanks
 *                                       around it allowed), else why not; `at` (may be NULL)
 *                                       gets the offset where checking stopped
 *   jsoncheck_valid(s, n, flags)        the same as a yes/no
 *
 * The grammar is always checked in full: literals, numbers with fraction and exponent,
 * string escapes, no raw control characters in strings, nothing after the value, at most
 * JSONCHECK_MAX_DEPTH nested values. flags add:
 *   JSONCHECK_UTF8         strings are well-formed UTF-8 (RFC 3629: no overlong forms, no
 *                          surrogates, nothing above U+10FFFF); without it any byte >= 0x80
 *                          passes, which tells a broken structure from an encoding problem
 *   JSONCHECK_UNIQUE_KEYS  no name twice in one object (RFC 8259 says names SHOULD be
 *                          unique; a consumer keeps only one of them). Names are compared
 *                          as written; the first JSONCHECK_MAX_KEYS of an object are kept
 *   JSONCHECK_OBJECT       the value is an object
 *   JSONCHECK_STRICT       JSONCHECK_UTF8 | JSONCHECK_UNIQUE_KEYS
 *
 * Every function carries JSONCHECK_ATTR, empty unless the includer defines it first: a
 * fuzz harness defines it as __attribute__((no_sanitize("coverage"))) so that the
 * checker's own branches stay out of the coverage that guides the fuzzer. */
#ifndef FP_JSONCHECK_H
#define FP_JSONCHECK_H

#include <stddef.h>
#include <string.h>

#ifndef JSONCHECK_ATTR
#define JSONCHECK_ATTR
#endif

#define JSONCHECK_UTF8        0x1u
#define JSONCHECK_UNIQUE_KEYS 0x2u
#define JSONCHECK_OBJECT      0x4u
#define JSONCHECK_STRICT      (JSONCHECK_UTF8 | JSONCHECK_UNIQUE_KEYS)

#define JSONCHECK_MAX_DEPTH 64
#define JSONCHECK_MAX_KEYS  256

struct jsoncheck {
	const unsigned char *s;
	size_t i, n;
	unsigned flags;
	int depth;
	const char *err; /* the first failure */
};

JSONCHECK_ATTR static inline int jsoncheck_value(struct jsoncheck *j);

JSONCHECK_ATTR static inline int jsoncheck_fail(struct jsoncheck *j, const char *why)
{
	if (!j->err)
		j->err = why;
	return 0;
}

JSONCHECK_ATTR static inline void jsoncheck_ws(struct jsoncheck *j)
{
	while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\n' ||
			       j->s[j->i] == '\r'))
		j->i++;
}

JSONCHECK_ATTR static inline int jsoncheck_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* One UTF-8 sequence at j->i (a byte >= 0x80); advances past it. */
JSONCHECK_ATTR static inline int jsoncheck_utf8(struct jsoncheck *j)
{
	const unsigned char *p = j->s + j->i;
	size_t left = j->n - j->i;
	unsigned c = p[0], need, lo = 0x80, hi = 0xbf; /* lo, hi: the second byte's range */
	if (c >= 0xc2 && c <= 0xdf)
		need = 1;
	else if (c >= 0xe0 && c <= 0xef)
		need = 2, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 3, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
	else
		return jsoncheck_fail(j, "invalid UTF-8 lead byte");
	if (left <= need)
		return jsoncheck_fail(j, "UTF-8 sequence cut short");
	if (p[1] < lo || p[1] > hi)
		return jsoncheck_fail(j, "invalid UTF-8 (overlong, surrogate or beyond U+10FFFF)");
	for (unsigned k = 2; k <= need; k++)
		if ((p[k] & 0xc0) != 0x80)
			return jsoncheck_fail(j, "invalid UTF-8 continuation");
	j->i += need + 1;
	return 1;
}

JSONCHECK_ATTR static inline int jsoncheck_string(struct jsoncheck *j)
{
	if (j->i >= j->n || j->s[j->i] != '"')
		return jsoncheck_fail(j, "expected a string");
	j->i++;
	while (j->i < j->n) {
		unsigned char c = j->s[j->i];
		if (c == '"') {
			j->i++;
			return 1;
		}
		if (c < 0x20)
			return jsoncheck_fail(j, "raw control character in a string");
		if (c == '\\') {
			if (++j->i >= j->n)
				break;
			c = j->s[j->i];
			if (c == 'u') {
				for (size_t k = 1; k <= 4; k++)
					if (j->i + k >= j->n || !jsoncheck_hex(j->s[j->i + k]))
						return jsoncheck_fail(j, "bad \\u escape");
				j->i += 5;
			} else if (c && strchr("\"\\/bfnrt", c)) {
				j->i++;
			} else {
				return jsoncheck_fail(j, "bad escape");
			}
			continue;
		}
		if (c >= 0x80 && (j->flags & JSONCHECK_UTF8)) {
			if (!jsoncheck_utf8(j))
				return 0;
			continue;
		}
		j->i++;
	}
	return jsoncheck_fail(j, "unterminated string");
}

JSONCHECK_ATTR static inline int jsoncheck_digits(struct jsoncheck *j)
{
	size_t st = j->i;
	while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
		j->i++;
	return j->i > st;
}

JSONCHECK_ATTR static inline int jsoncheck_number(struct jsoncheck *j)
{
	if (j->i < j->n && j->s[j->i] == '-')
		j->i++;
	if (j->i < j->n && j->s[j->i] == '0')
		j->i++;
	else if (!jsoncheck_digits(j))
		return jsoncheck_fail(j, "bad number");
	if (j->i < j->n && j->s[j->i] == '.') {
		j->i++;
		if (!jsoncheck_digits(j))
			return jsoncheck_fail(j, "bad fraction");
	}
	if (j->i < j->n && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
		j->i++;
		if (j->i < j->n && (j->s[j->i] == '+' || j->s[j->i] == '-'))
			j->i++;
		if (!jsoncheck_digits(j))
			return jsoncheck_fail(j, "bad exponent");
	}
	return 1;
}

JSONCHECK_ATTR static inline int jsoncheck_literal(struct jsoncheck *j, const char *lit)
{
	size_t l = strlen(lit);
	if (j->n - j->i < l || memcmp(j->s + j->i, lit, l))
		return jsoncheck_fail(j, "unexpected character");
	j->i += l;
	return 1;
}

/* An object or an array: '{' or '[', members separated by ',', the closing bracket. */
JSONCHECK_ATTR static inline int jsoncheck_container(struct jsoncheck *j, int object)
{
	const unsigned char close = object ? '}' : ']';
	size_t keys[JSONCHECK_MAX_KEYS][2]; /* offset and length of each name, as written */
	size_t nk = 0;
	j->i++;
	jsoncheck_ws(j);
	if (j->i < j->n && j->s[j->i] == close) {
		j->i++;
		return 1;
	}
	for (;;) {
		if (object) {
			jsoncheck_ws(j);
			size_t k0 = j->i;
			if (!jsoncheck_string(j))
				return 0;
			for (size_t k = 0; (j->flags & JSONCHECK_UNIQUE_KEYS) && k < nk; k++)
				if (keys[k][1] == j->i - k0 &&
				    !memcmp(j->s + keys[k][0], j->s + k0, j->i - k0))
					return jsoncheck_fail(j, "duplicate key in an object");
			if (nk < JSONCHECK_MAX_KEYS) {
				keys[nk][0] = k0;
				keys[nk++][1] = j->i - k0;
			}
			jsoncheck_ws(j);
			if (j->i >= j->n || j->s[j->i] != ':')
				return jsoncheck_fail(j, "expected ':'");
			j->i++;
		}
		if (!jsoncheck_value(j))
			return 0;
		jsoncheck_ws(j);
		if (j->i < j->n && j->s[j->i] == ',') {
			j->i++;
			continue;
		}
		if (j->i < j->n && j->s[j->i] == close) {
			j->i++;
			return 1;
		}
		return jsoncheck_fail(j, object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

JSONCHECK_ATTR static inline int jsoncheck_value(struct jsoncheck *j)
{
	jsoncheck_ws(j);
	if (j->i >= j->n)
		return jsoncheck_fail(j, "expected a value");
	if (++j->depth > JSONCHECK_MAX_DEPTH)
		return jsoncheck_fail(j, "nested too deeply");
	int r;
	unsigned char c = j->s[j->i];
	if (c == '{' || c == '[')
		r = jsoncheck_container(j, c == '{');
	else if (c == '"')
		r = jsoncheck_string(j);
	else if (c == '-' || (c >= '0' && c <= '9'))
		r = jsoncheck_number(j);
	else if (c == 't')
		r = jsoncheck_literal(j, "true");
	else if (c == 'f')
		r = jsoncheck_literal(j, "false");
	else if (c == 'n')
		r = jsoncheck_literal(j, "null");
	else
		r = jsoncheck_fail(j, "unexpected character");
	j->depth--;
	return r;
}

/* NULL when s[0, n) is exactly one JSON value that meets flags (blanks around it allowed),
 * else what is wrong. at (when not NULL) gets the offset where checking stopped. */
JSONCHECK_ATTR static inline const char *jsoncheck_error(const char *s, size_t n, unsigned flags,
							  size_t *at)
{
	struct jsoncheck j = {(const unsigned char *)s, 0, n, flags, 0, NULL};
	jsoncheck_ws(&j);
	if ((flags & JSONCHECK_OBJECT) && (j.i >= n || j.s[j.i] != '{')) {
		jsoncheck_fail(&j, "not an object");
	} else if (jsoncheck_value(&j)) {
		jsoncheck_ws(&j);
		if (j.i != n)
			jsoncheck_fail(&j, "text after the value");
	}
	if (at)
		*at = j.i;
	return j.err;
}

/* Whether s[0, n) is exactly one JSON value that meets flags. */
JSONCHECK_ATTR static inline int jsoncheck_valid(const char *s, size_t n, unsigned flags)
{
	return jsoncheck_error(s, n, flags, NULL) == NULL;
}

#endif
