/*
 * signature.c — the plugin signature language (docs/plugin-abi.md):
 *
 *   signature := "(" [ param { "," param } ] ")" [ "->" result ]
 *   param     := scalar | "str" | ("own" | "ref" | "mut") "<" type-name ">"
 *   result    := scalar | "str" | "own" "<" type-name ">"
 *   scalar    := i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 bool
 *   type-name := 1..255 of [A-Za-z0-9_.:-]
 *
 * Spaces may separate tokens. Parsing is strict so that a signature means
 * one thing to every host and tool that reads it.
 */
#include "internal.h"

#include <string.h>

static const struct {
    const char *word;
    ferry_value_kind kind;
} scalars[] = {
    {"i8", FERRY_VALUE_I8},   {"i16", FERRY_VALUE_I16},   {"i32", FERRY_VALUE_I32},
    {"i64", FERRY_VALUE_I64}, {"u8", FERRY_VALUE_U8},     {"u16", FERRY_VALUE_U16},
    {"u32", FERRY_VALUE_U32}, {"u64", FERRY_VALUE_U64},   {"f32", FERRY_VALUE_F32},
    {"f64", FERRY_VALUE_F64}, {"bool", FERRY_VALUE_BOOL}, {"str", FERRY_VALUE_STR},
};

const char *ferry_value_kind_name(ferry_value_kind k)
{
    if (k == FERRY_VALUE_VOID)
        return "void";
    if (k == FERRY_VALUE_OWNED)
        return "own";
    if (k == FERRY_VALUE_BORROWED)
        return "borrowed";
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
        if (scalars[i].kind == k)
            return scalars[i].word;
    return "?";
}

typedef struct parser {
    const char *text;
    size_t at;
} parser;

static const char op[] = "ferry_signature_parse";

static ferry_status fail_at(const parser *p, const char *what)
{
    return ferry__fail(FERRY_E_SIGNATURE, op, NULL, "%s at offset %zu of \"%s\"", what, p->at,
                       p->text);
}

static void skip_spaces(parser *p)
{
    while (p->text[p->at] == ' ')
        p->at++;
}

static bool word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool type_char(char c)
{
    return word_char(c) || c == '_' || c == '.' || c == ':' || c == '-';
}

/* Consumes `c` (after spaces) if it is next. */
static bool accept(parser *p, const char *token)
{
    skip_spaces(p);
    size_t n = strlen(token);
    if (strncmp(p->text + p->at, token, n) != 0)
        return false;
    p->at += n;
    return true;
}

/* One param or result into *out; `result` restricts the handle forms. */
static ferry_status parse_param(parser *p, bool result, ferry_param *out)
{
    skip_spaces(p);
    size_t start = p->at;
    while (word_char(p->text[p->at]))
        p->at++;
    size_t len = p->at - start;
    const char *w = p->text + start;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
        if (strlen(scalars[i].word) == len && strncmp(scalars[i].word, w, len) == 0) {
            out->kind = scalars[i].kind;
            return FERRY_OK;
        }
    }
    bool own = len == 3 && strncmp(w, "own", 3) == 0;
    bool ref = len == 3 && strncmp(w, "ref", 3) == 0;
    bool mut = len == 3 && strncmp(w, "mut", 3) == 0;
    if (!own && !ref && !mut) {
        p->at = start;
        return fail_at(p, len ? "unknown kind" : "expected a kind");
    }
    if (result && !own) {
        p->at = start;
        return fail_at(p, "a result can only be own<T>, a scalar or str");
    }
    if (p->text[p->at] != '<')
        return fail_at(p, "expected '<' after own/ref/mut");
    p->at++;
    size_t name_start = p->at;
    while (type_char(p->text[p->at]))
        p->at++;
    size_t name_len = p->at - name_start;
    if (name_len == 0)
        return fail_at(p, "expected a type name");
    if (name_len > FERRY_PLUGIN_MAX_NAME)
        return fail_at(p, "type name longer than 255 bytes");
    if (p->text[p->at] != '>')
        return fail_at(p, "expected '>' after the type name");
    p->at++;
    out->kind = own ? FERRY_VALUE_OWNED : FERRY_VALUE_BORROWED;
    out->exclusive = mut;
    memcpy(out->type_name, p->text + name_start, name_len);
    out->type_name[name_len] = '\0';
    return FERRY_OK;
}

ferry_status ferry_signature_parse(const char *text, ferry_signature *out)
{
    if (!text)
        return ferry__fail(FERRY_E_NULL, op, NULL, "null signature `text`");
    if (!out)
        return ferry__fail(FERRY_E_NULL, op, NULL, "null out-pointer `out`");
    parser p = {text, 0};
    ferry_signature sig;
    memset(&sig, 0, sizeof sig);
    if (!accept(&p, "("))
        return fail_at(&p, "expected '('");
    if (!accept(&p, ")")) {
        for (;;) {
            if (sig.nargs == FERRY_PLUGIN_MAX_ARGS)
                return fail_at(&p, "more than 16 parameters");
            ferry_status s = parse_param(&p, false, &sig.args[sig.nargs]);
            if (s != FERRY_OK)
                return s;
            sig.nargs++;
            if (accept(&p, ")"))
                break;
            if (!accept(&p, ","))
                return fail_at(&p, "expected ',' or ')'");
        }
    }
    if (accept(&p, "->")) {
        ferry_status s = parse_param(&p, true, &sig.result);
        if (s != FERRY_OK)
            return s;
    }
    skip_spaces(&p);
    if (text[p.at] != '\0')
        return fail_at(&p, "unexpected text after the signature");
    *out = sig;
    return FERRY_OK;
}
