/*
 * test_json.c - the strict JSON parser (lib/io/json.c): valid documents,
 * every class of rejection with the message it must give, the limits, error
 * positions, json_parse_file, and a deterministic mutation loop (truncations,
 * byte flips, insertions) that must never crash or leak (run it under
 * `make SAN=1` to catch the latter).
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/json.h"
#include "test.h"

static json_value *parse(const char *s, anim_error *err) {
    return json_parse(s, strlen(s), NULL, err);
}

/* ---- valid documents --------------------------------------------------- */

TEST(json_nested_document) {
    const char *doc =
        "{\n"
        "  \"name\": \"unet\",\n"
        "  \"block_out_channels\": [320, 640, 1280, 1280],\n"
        "  \"nested\": {\"a\": [[], {}, [null, true, false]], \"b\": {\"c\": -1.5}},\n"
        "  \"empty_str\": \"\"\n"
        "}";
    anim_error err;
    json_value *v = parse(doc, &err);
    CHECK_MSG(v, "parse failed: %s", err.msg);
    CHECK(v->type == JSON_OBJECT && v->len == 4);
    /* keys keep document order */
    CHECK(strcmp(v->keys[0], "name") == 0 && strcmp(v->keys[3], "empty_str") == 0);
    CHECK(strcmp(json_get_str(v, "name", "?"), "unet") == 0);
    const json_value *boc = json_get(v, "block_out_channels");
    CHECK(boc && boc->type == JSON_ARRAY && boc->len == 4);
    CHECK(boc->items[2].type == JSON_NUMBER && boc->items[2].is_uint && boc->items[2].u64 == 1280);
    const json_value *nested = json_get(v, "nested");
    const json_value *a = json_get(nested, "a");
    CHECK(a && a->len == 3);
    CHECK(a->items[0].type == JSON_ARRAY && a->items[0].len == 0 && a->items[0].items == NULL);
    CHECK(a->items[1].type == JSON_OBJECT && a->items[1].len == 0);
    CHECK(a->items[2].items[0].type == JSON_NULL);
    CHECK(a->items[2].items[1].type == JSON_BOOL && a->items[2].items[1].b);
    CHECK(a->items[2].items[2].type == JSON_BOOL && !a->items[2].items[2].b);
    CHECK(json_get_num(json_get(nested, "b"), "c", 0) == -1.5);
    const json_value *es = json_get(v, "empty_str");
    CHECK(es && es->type == JSON_STRING && es->len == 0 && es->str && es->str[0] == '\0');
    json_free(v);
}

TEST(json_top_level_scalars) {
    anim_error err;
    json_value *v = parse(" \t\r\n true \n", &err);
    CHECK_MSG(v && v->type == JSON_BOOL && v->b, "%s", err.msg);
    json_free(v);
    v = parse("null", &err);
    CHECK(v && v->type == JSON_NULL);
    json_free(v);
    v = parse("\"s\"", &err);
    CHECK(v && v->type == JSON_STRING && strcmp(v->str, "s") == 0);
    json_free(v);
    v = parse("42", &err);
    CHECK(v && v->type == JSON_NUMBER && v->is_uint && v->u64 == 42 && v->num == 42.0);
    json_free(v);
    json_free(NULL);  /* no-op */
}

TEST(json_escapes) {
    anim_error err;
    json_value *v = parse("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\"", &err);
    CHECK_MSG(v, "%s", err.msg);
    CHECK(strcmp(v->str, "q\" b\\ s/ \b\f\n\r\t") == 0);
    json_free(v);
    /* \u: 1-, 2-, 3-byte code points, a surrogate pair -> U+1F600, upper/lower hex */
    v = parse("\"\\u0041\\u00e9\\u20AC\\ud83d\\uDE00\"", &err);
    CHECK_MSG(v, "%s", err.msg);
    CHECK(v->len == 1 + 2 + 3 + 4);
    CHECK(memcmp(v->str, "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 10) == 0 && v->str[10] == '\0');
    json_free(v);
    /* escaped NUL is kept: len says 3, strlen says 1 */
    v = parse("\"a\\u0000b\"", &err);
    CHECK_MSG(v, "%s", err.msg);
    CHECK(v->len == 3 && v->str[0] == 'a' && v->str[1] == '\0' && v->str[2] == 'b');
    json_free(v);
    /* keys are decoded too, and json_get matches the decoded form */
    v = parse("{\"k\\u00e9y\": 1, \"a\\u0000b\": 2}", &err);
    CHECK_MSG(v, "%s", err.msg);
    CHECK(json_get_num(v, "k\xC3\xA9y", 0) == 1);
    CHECK(v->key_lens[1] == 3);
    CHECK(json_get(v, "a") == NULL);  /* "a\0b" is not "a" */
    json_free(v);
}

TEST(json_raw_utf8) {
    /* 2-, 3- and 4-byte sequences at the edges of their ranges, plus DEL */
    const char *doc = "[\"\xC2\x80\", \"\xDF\xBF\", \"\xE0\xA0\x80\", \"\xED\x9F\xBF\", \"\xEE\x80\x80\","
                      " \"\xEF\xBF\xBF\", \"\xF0\x90\x80\x80\", \"\xF4\x8F\xBF\xBF\", \"\x7f\"]";
    anim_error err;
    json_value *v = parse(doc, &err);
    CHECK_MSG(v, "%s", err.msg);
    CHECK(v->len == 9);
    CHECK(strcmp(v->items[7].str, "\xF4\x8F\xBF\xBF") == 0);
    json_free(v);
}

TEST(json_numbers) {
    static const struct { const char *lit; double num; bool is_uint; uint64_t u64; } cases[] = {
        {"0", 0.0, true, 0},
        {"-0", -0.0, false, 0},
        {"7", 7.0, true, 7},
        {"-45", -45.0, false, 0},
        {"1.5", 1.5, false, 0},
        {"-2.5e-3", -2.5e-3, false, 0},
        {"1E10", 1e10, false, 0},
        {"6.02e+23", 6.02e23, false, 0},
        {"0.1", 0.1, false, 0},
        {"100e0", 100.0, false, 0},  /* integer-valued but not a plain integer literal */
        {"9007199254740993", 9007199254740992.0, true, 9007199254740993ull},  /* u64 exact, double rounds */
        {"18446744073709551615", 18446744073709551615.0, true, UINT64_MAX},
        {"18446744073709551616", 18446744073709551616.0, false, 0},           /* overflow: still a number */
        {"123456789012345678901234567890", 1.2345678901234568e29, false, 0},
        {"1e-400", 0.0, false, 0},                                              /* underflow is fine */
        {"2.2250738585072014e-308", 2.2250738585072014e-308, false, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        anim_error err;
        json_value *v = parse(cases[i].lit, &err);
        CHECK_MSG(v, "%s: %s", cases[i].lit, err.msg);
        bool ok = v->type == JSON_NUMBER && v->num == cases[i].num && v->is_uint == cases[i].is_uint &&
                  (!cases[i].is_uint || v->u64 == cases[i].u64);
        if (ok && cases[i].num == 0) ok = signbit(v->num) == signbit(cases[i].num);
        json_free(v);
        CHECK_MSG(ok, "number %s parsed wrong", cases[i].lit);
    }
}

/* strtod reads the decimal point of LC_NUMERIC; the parser must not. */
TEST(json_numbers_locale_independent) {
    static const char *locales[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", "ru_RU.UTF-8"};
    const char *got = NULL;
    for (size_t i = 0; i < sizeof locales / sizeof locales[0] && !got; i++)
        got = setlocale(LC_NUMERIC, locales[i]);
    anim_error err;
    json_value *v = parse("[1.5, 2.25e1]", &err);
    if (got) setlocale(LC_NUMERIC, "C");
    CHECK_MSG(v, "%s", err.msg);
    bool ok = v->items[0].num == 1.5 && v->items[1].num == 22.5;
    json_free(v);
    CHECK(ok);
    if (!got) SKIP("no comma-decimal locale installed; parsed under \"C\" only");
}

TEST(json_getters) {
    anim_error err;
    json_value *v = parse("{\"n\": 2.5, \"b\": true, \"s\": \"x\", \"z\": null}", &err);
    CHECK_MSG(v, "%s", err.msg);
    CHECK(json_get_num(v, "n", -1) == 2.5);
    CHECK(json_get_num(v, "s", -1) == -1);        /* wrong type -> default */
    CHECK(json_get_num(v, "missing", -1) == -1);
    CHECK(json_get_bool(v, "b", false) == true);
    CHECK(json_get_bool(v, "n", false) == false);
    CHECK(strcmp(json_get_str(v, "s", "d"), "x") == 0);
    CHECK(strcmp(json_get_str(v, "z", "d"), "d") == 0);
    CHECK(json_get(v, "z") && json_get(v, "z")->type == JSON_NULL);
    CHECK(json_get(json_get(v, "n"), "x") == NULL);  /* not an object */
    CHECK(json_get(NULL, "x") == NULL);
    json_free(v);
}

/* ---- rejections -------------------------------------------------------- */

typedef struct bad_case { const char *in; size_t len; const char *frag; } bad_case;

static const bad_case bad_cases[] = {
    /* structure */
    {"", 0, "unexpected end of input"},
    {"   ", 0, "unexpected end of input"},
    {"{", 0, "unterminated object"},
    {"[1, 2", 0, "unterminated array"},
    {"[1, 2,]", 0, "trailing comma before ']'"},
    {"{\"a\": 1,}", 0, "trailing comma before '}'"},
    {"[,1]", 0, "expected a value, found ','"},
    {"[1 2]", 0, "expected ',' or ']'"},
    {"{\"a\" 1}", 0, "expected ':' after object key"},
    {"{\"a\": 1 \"b\": 2}", 0, "expected ',' or '}'"},
    {"{1: 2}", 0, "expected a string key"},
    {"{'a': 1}", 0, "double quotes"},
    {"'a'", 0, "double quotes"},
    {"[1] x", 0, "unexpected data after the top-level value"},
    {"{} {}", 0, "unexpected data after the top-level value"},
    {"// c\n{}", 0, "comments are not allowed"},
    {"{/* c */}", 0, "expected a string key"},
    {"[1, /* c */ 2]", 0, "comments are not allowed"},
    {"\xEF\xBB\xBF{}", 0, "byte order mark"},
    {"tru", 0, "invalid literal"},
    {"nul", 0, "invalid literal"},
    {"True", 0, "unexpected 'T'"},
    {"\"a\"\0", 4, "unexpected data after the top-level value"},
    {"\f1", 0, "unexpected byte 0x0c"},           /* form feed is not JSON whitespace */
    {"[1,\xff]", 0, "unexpected byte 0xff"},
    /* numbers */
    {"NaN", 0, "NaN and Infinity"},
    {"Infinity", 0, "NaN and Infinity"},
    {"-Infinity", 0, "NaN and Infinity"},
    {"nan", 0, "invalid literal"},
    {"01", 0, "leading zeros"},
    {"-01", 0, "leading zeros"},
    {"00", 0, "leading zeros"},
    {"+1", 0, "may not start with '+'"},
    {".5", 0, "digit before the decimal point"},
    {"1.", 0, "expected a digit after the decimal point"},
    {"1.e5", 0, "expected a digit after the decimal point"},
    {"1e", 0, "expected a digit in the exponent"},
    {"1e+", 0, "expected a digit in the exponent"},
    {"-", 0, "expected a digit after '-'"},
    {"- 1", 0, "expected a digit after '-'"},
    {"0x10", 0, "unexpected data after the top-level value"},
    {"1e400", 0, "out of range"},
    {"-1e400", 0, "out of range"},
    /* strings */
    {"\"abc", 0, "unterminated string"},
    {"\"abc\\", 0, "unterminated string"},
    {"\"a\nb\"", 0, "control character 0x0a"},
    {"\"a\tb\"", 0, "control character 0x09"},
    {"\"a\0b\"", 5, "control character 0x00"},
    {"\"\\x\"", 0, "invalid escape"},
    {"\"\\'\"", 0, "invalid escape"},
    {"\"\\u12\"", 0, "expected 4 hex digits"},
    {"\"\\u12G4\"", 0, "expected 4 hex digits"},
    {"\"\\uD800\"", 0, "lone surrogate \\uD800"},
    {"\"\\uDBFF\\u0041\"", 0, "lone surrogate \\uDBFF"},
    {"\"\\uD800\\uD800\"", 0, "lone surrogate"},
    {"\"\\uDC00\"", 0, "lone surrogate \\uDC00"},
    {"\"\\uDE00\\uD83D\"", 0, "lone surrogate \\uDE00"},  /* pair in the wrong order */
    /* UTF-8 */
    {"\"\x80\"", 0, "invalid UTF-8 byte 0x80"},             /* stray continuation byte */
    {"\"\xC0\xAF\"", 0, "invalid UTF-8 byte 0xc0"},         /* overlong '/' */
    {"\"\xC1\xBF\"", 0, "invalid UTF-8 byte 0xc1"},         /* overlong */
    {"\"\xE0\x80\xAF\"", 0, "invalid UTF-8 byte 0xe0"},     /* overlong 3-byte */
    {"\"\xE0\x9F\xBF\"", 0, "invalid UTF-8 byte 0xe0"},     /* overlong 3-byte (U+07FF) */
    {"\"\xF0\x80\x80\xAF\"", 0, "invalid UTF-8 byte 0xf0"}, /* overlong 4-byte */
    {"\"\xF0\x8F\xBF\xBF\"", 0, "invalid UTF-8 byte 0xf0"}, /* overlong 4-byte (U+FFFF) */
    {"\"\xED\xA0\x80\"", 0, "invalid UTF-8 byte 0xed"},     /* U+D800 encoded directly */
    {"\"\xED\xBF\xBF\"", 0, "invalid UTF-8 byte 0xed"},     /* U+DFFF */
    {"\"\xF4\x90\x80\x80\"", 0, "invalid UTF-8 byte 0xf4"}, /* U+110000 */
    {"\"\xF5\x80\x80\x80\"", 0, "invalid UTF-8 byte 0xf5"}, /* lead byte > F4 */
    {"\"\xFF\"", 0, "invalid UTF-8 byte 0xff"},
    {"\"\xC3\"", 0, "invalid UTF-8 byte 0xc3"},             /* truncated by the quote */
    {"\"\xE2\x82", 0, "invalid UTF-8 byte 0xe2"},           /* truncated by end of input */
    {"\"\xC3\x28\"", 0, "invalid UTF-8 byte 0xc3"},         /* bad continuation */
    /* duplicates */
    {"{\"a\": 1, \"a\": 2}", 0, "duplicate key 'a'"},
    {"{\"x\": {\"k\": 1, \"j\": 2, \"k\": 3}}", 0, "duplicate key 'k'"},
    {"{\"\\u0061\": 1, \"a\": 2}", 0, "duplicate key 'a'"},  /* equal after decoding */
};

TEST(json_rejections) {
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        size_t len = c->len ? c->len : strlen(c->in);
        anim_error err = {0};
        json_value *v = json_parse(c->in, len, NULL, &err);
        json_free(v);
        CHECK_MSG(v == NULL, "case %zu was accepted", i);
        CHECK_MSG(err.status == ANIM_E_FORMAT, "case %zu: status %d (%s)", i, err.status, err.msg);
        CHECK_MSG(strstr(err.msg, c->frag) != NULL, "case %zu: message \"%s\" lacks \"%s\"", i, err.msg, c->frag);
        CHECK_MSG(strncmp(err.msg, "line ", 5) == 0, "case %zu: no position in \"%s\"", i, err.msg);
    }
}

TEST(json_null_buffer) {
    anim_error err = {0};
    CHECK(json_parse(NULL, 0, NULL, &err) == NULL);
    CHECK(err.status == ANIM_E_FORMAT);
    json_value *v = json_parse("1", 1, NULL, NULL);  /* err may be NULL */
    CHECK(v != NULL);
    json_free(v);
    CHECK(json_parse("[", 1, NULL, NULL) == NULL);
}

TEST(json_error_position) {
    anim_error err;
    /* line 3 is `  "b": 12345 6`: the stray 6 is column 14 */
    const char *doc = "{\n  \"a\": 1,\n  \"b\": 12345 6\n}";
    CHECK(parse(doc, &err) == NULL);
    CHECK_CONTAINS(err.msg, "line 3, column 14: expected ',' or '}'");
    /* columns count characters, not bytes: e-acute is 2 bytes, 1 column */
    CHECK(parse("[\"\xC3\xA9\", x]", &err) == NULL);
    CHECK_CONTAINS(err.msg, "line 1, column 7: unexpected 'x'");
    /* a duplicate key is reported where its second occurrence starts */
    CHECK(parse("{\"k\": 1,\n \"k\": 2}", &err) == NULL);
    CHECK_CONTAINS(err.msg, "line 2, column 2: duplicate key 'k'");
    /* an unterminated string points at its opening quote */
    CHECK(parse("\n\n   \"abc", &err) == NULL);
    CHECK_CONTAINS(err.msg, "line 3, column 4: unterminated string");
}

TEST(json_duplicate_key_wide_object) {
    /* 2000 keys (a safetensors header with ~700 tensors has this shape): fine
     * when unique; with one repeat the error names it. */
    size_t cap = 2000 * 24 + 64, n = 0;
    char *doc = malloc(cap);
    CHECK(doc);
    n += (size_t)snprintf(doc + n, cap - n, "{");
    for (int i = 0; i < 2000; i++) n += (size_t)snprintf(doc + n, cap - n, "%s\"key%04d\": %d", i ? ", " : "", i, i);
    n += (size_t)snprintf(doc + n, cap - n, "}");
    anim_error err;
    json_value *v = json_parse(doc, n, NULL, &err);
    bool ok = v && v->len == 2000 && json_get_num(v, "key1999", -1) == 1999 && json_get_num(v, "key0000", -1) == 0;
    json_free(v);
    if (!ok) free(doc);
    CHECK_MSG(ok, "unique wide object rejected: %s", err.msg);
    /* turn key1500 into a second key0777 */
    char *k = strstr(doc, "\"key1500\"");
    memcpy(k + 4, "0777", 4);
    v = json_parse(doc, n, NULL, &err);
    free(doc);
    json_free(v);
    CHECK(v == NULL);
    CHECK_CONTAINS(err.msg, "duplicate key 'key0777'");
}

TEST(json_duplicate_key_sanitised) {
    /* control characters in a duplicate key do not break the one-line message */
    anim_error err;
    CHECK(parse("{\"a\\nb\": 1, \"a\\nb\": 2}", &err) == NULL);
    CHECK_CONTAINS(err.msg, "duplicate key 'a?b'");
    CHECK(strchr(err.msg, '\n') == NULL);
}

/* ---- limits ------------------------------------------------------------ */

static char *nested(int depth, size_t *len) {
    char *s = malloc((size_t)depth * 2 + 2);
    if (!s) return NULL;
    for (int i = 0; i < depth; i++) s[i] = '[';
    s[depth] = '1';
    for (int i = 0; i < depth; i++) s[depth + 1 + i] = ']';
    *len = (size_t)depth * 2 + 1;
    return s;
}

static bool parses(const char *s, size_t len, const json_limits *lim, anim_error *err) {
    json_value *v = json_parse(s, len, lim, err);
    json_free(v);
    return v != NULL;
}

TEST(json_limit_depth) {
    anim_error err;
    size_t len;
    json_limits lim = {.max_depth = 3};
    CHECK(parses("[[[1]]]", 7, &lim, &err));
    CHECK(parses("{\"a\": {\"b\": [1]}}", 17, &lim, &err));
    CHECK(!parses("[[[[1]]]]", 9, &lim, &err));
    CHECK_CONTAINS(err.msg, "nesting deeper than 3 levels");
    CHECK(!parses("{\"a\": {\"b\": [[]]}}", 18, &lim, &err));
    CHECK_CONTAINS(err.msg, "nesting deeper than 3 levels");
    /* default: 64 */
    char *s = nested(64, &len);
    CHECK(s);
    bool ok64 = parses(s, len, NULL, &err);
    free(s);
    CHECK_MSG(ok64, "%s", err.msg);
    s = nested(65, &len);
    CHECK(s);
    bool ok65 = parses(s, len, NULL, &err);
    free(s);
    CHECK(!ok65);
    CHECK_CONTAINS(err.msg, "nesting deeper than 64 levels");
    /* a hostile depth is refused before it can exhaust the stack, even when
     * the caller asks for an absurd limit (clamped) */
    s = nested(200000, &len);
    CHECK(s);
    json_limits huge = {.max_depth = 1 << 30};
    bool okh = parses(s, len, &huge, &err);
    free(s);
    CHECK(!okh);
    CHECK_CONTAINS(err.msg, "nesting deeper than");
}

TEST(json_limit_string) {
    anim_error err;
    json_limits lim = {.max_string = 4};
    CHECK(parses("\"abcd\"", 6, &lim, &err));
    CHECK(!parses("\"abcde\"", 7, &lim, &err));
    CHECK_CONTAINS(err.msg, "string longer than the 4-byte limit");
    CHECK(err.status == ANIM_E_FORMAT);
    /* the limit is on decoded bytes: two escaped e-acutes are 4 bytes */
    CHECK(parses("\"\\u00e9\\u00e9\"", 14, &lim, &err));
    CHECK(!parses("\"\\u00e9\\u00e9x\"", 15, &lim, &err));
    /* keys count too */
    CHECK(!parses("{\"abcde\": 1}", 12, &lim, &err));
    CHECK_CONTAINS(err.msg, "4-byte limit");
}

TEST(json_limit_elements) {
    anim_error err;
    json_limits lim = {.max_elements = 3};
    CHECK(parses("[1, 2]", 6, &lim, &err));          /* array + 2 numbers */
    CHECK(!parses("[1, 2, 3]", 9, &lim, &err));
    CHECK_CONTAINS(err.msg, "element limit");
    CHECK(parses("{\"a\": 1, \"b\": 2}", 16, &lim, &err)); /* keys are not values */
    CHECK(parses("{\"a\": [1]}", 10, &lim, &err));  /* object + array + number */
    CHECK(!parses("{\"a\": [1, 2]}", 13, &lim, &err));
}

/* ---- files ------------------------------------------------------------- */

TEST(json_parse_file) {
    char path[512];
    snprintf(path, sizeof path, "%s/json_ok.json", test_tmp_dir());
    const char *doc = "{\"scale\": 0.18215, \"ok\": true}\n";
    CHECK(test_write_file(path, doc, strlen(doc)));
    anim_error err;
    json_value *v = json_parse_file(path, NULL, &err);
    CHECK_MSG(v, "%s", err.msg);
    bool ok = json_get_num(v, "scale", 0) == 0.18215 && json_get_bool(v, "ok", false);
    json_free(v);
    CHECK(ok);

    /* a parse error names the file, then the position */
    snprintf(path, sizeof path, "%s/json_bad.json", test_tmp_dir());
    const char *bad = "{\n  \"a\": 1,\n  \"b\": 12345 6\n}";
    CHECK(test_write_file(path, bad, strlen(bad)));
    CHECK(json_parse_file(path, NULL, &err) == NULL);
    CHECK(err.status == ANIM_E_FORMAT);
    char want[600];
    snprintf(want, sizeof want, "%s: line 3, column 14: expected ',' or '}'", path);
    CHECK_CONTAINS(err.msg, want);

    /* missing file: I/O error naming the path */
    snprintf(path, sizeof path, "%s/json_missing.json", test_tmp_dir());
    remove(path);
    CHECK(json_parse_file(path, NULL, &err) == NULL);
    CHECK(err.status == ANIM_E_IO);
    CHECK_CONTAINS(err.msg, path);

    /* a directory is not a JSON file */
    CHECK(json_parse_file(test_tmp_dir(), NULL, &err) == NULL);
    CHECK(err.status == ANIM_E_IO);
}

TEST(json_parse_file_size_cap) {
    /* a sparse 64 MiB + 1 file: refused from its size, never read */
    char path[512];
    snprintf(path, sizeof path, "%s/json_huge.json", test_tmp_dir());
    FILE *fp = fopen(path, "wb");
    CHECK(fp);
    bool ok = fseek(fp, 64L << 20, SEEK_SET) == 0 && fputc(' ', fp) != EOF;
    fclose(fp);
    CHECK(ok);
    anim_error err;
    json_value *v = json_parse_file(path, NULL, &err);
    remove(path);
    json_free(v);
    CHECK(v == NULL);
    CHECK(err.status == ANIM_E_FORMAT);
    CHECK_CONTAINS(err.msg, "limit for JSON files");
}

/* ---- mutation loop ----------------------------------------------------- */

/* Walk a parsed tree and check the invariants callers rely on. */
static bool tree_ok(const json_value *v, int depth) {
    if (depth > 64) return false;
    switch (v->type) {
    case JSON_STRING: return v->str && v->str[v->len] == '\0';
    case JSON_NUMBER: return isfinite(v->num) && (!v->is_uint || (double)v->u64 == v->num);
    case JSON_ARRAY:
    case JSON_OBJECT:
        for (size_t i = 0; i < v->len; i++) {
            if (v->type == JSON_OBJECT && (!v->keys[i] || v->keys[i][v->key_lens[i]] != '\0')) return false;
            if (!tree_ok(&v->items[i], depth + 1)) return false;
        }
        return v->len == 0 || v->items;
    default: return true;
    }
}

TEST(json_mutation_loop) {
    static const char sample[] =
        "{\"__metadata__\": {\"format\": \"pt\"}, \"conv_in.weight\": {\"dtype\": \"F32\", "
        "\"shape\": [32, 4, 3, 3], \"data_offsets\": [0, 4608]}, \"k\\u00e9\\ud83d\\ude00\": "
        "[1.5e-3, -0, true, false, null, \"\xC3\xA9\\n\\\"\", 18446744073709551615, {}, []]}";
    static const char inserts[] = "{}[]\",:\\0-+.eE \x80\xC3\xED\xF4\xFF\n";
    const size_t n = sizeof sample - 1;
    anim_error err;
    json_value *base = json_parse(sample, n, NULL, &err);
    CHECK_MSG(base, "sample must parse: %s", err.msg);
    json_free(base);
    char buf[sizeof sample + 8];
    test_rng r;
    test_rng_seed(&r, 1234);
    int accepted = 0, rejected = 0;
    for (int it = 0; it < 20000; it++) {
        memcpy(buf, sample, n);
        size_t len = n;
        int kind = (int)(test_rng_u64(&r) % 4);
        int edits = 1 + (int)(test_rng_u64(&r) % 3);
        for (int e = 0; e < edits; e++) {
            size_t at = (size_t)(test_rng_u64(&r) % len);
            if (kind == 0) len = at;                                          /* truncate */
            else if (kind == 1) buf[at] = (char)(test_rng_u64(&r) & 0xff);   /* random byte */
            else if (kind == 2) buf[at] ^= (char)(1u << (test_rng_u64(&r) % 8)); /* bit flip */
            else if (len < sizeof buf) {                                     /* insert */
                memmove(buf + at + 1, buf + at, len - at);
                buf[at] = inserts[test_rng_u64(&r) % (sizeof inserts - 1)];
                len++;
            }
            if (len == 0) break;
        }
        /* parse from a heap copy of exactly len bytes so ASan sees over-reads */
        char *exact = malloc(len ? len : 1);
        CHECK(exact);
        memcpy(exact, buf, len);
        err.status = ANIM_OK;
        err.msg[0] = '\0';
        json_value *v = json_parse(exact, len, NULL, &err);
        free(exact);
        if (v) {
            bool ok = tree_ok(v, 0);
            json_free(v);
            CHECK_MSG(ok, "iteration %d: accepted tree breaks invariants", it);
            accepted++;
        } else {
            CHECK_MSG(err.status == ANIM_E_FORMAT && strncmp(err.msg, "line ", 5) == 0,
                      "iteration %d: status %d message \"%s\"", it, err.status, err.msg);
            rejected++;
        }
    }
    /* the loop must exercise both outcomes to mean anything */
    CHECK_MSG(accepted > 100 && rejected > 10000, "accepted %d rejected %d", accepted, rejected);
}
