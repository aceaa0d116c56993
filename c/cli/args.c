/*
 * args.c — command-line text to the value a parameter takes. Strict: a
 * value that does not fit its parameter exactly is refused, never wrapped,
 * truncated or read in part.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cli_param_spelling(const ferry_param *p, char *buf, size_t size)
{
    const char *wrapper = NULL;
    if (p->kind == FERRY_VALUE_OWNED)
        wrapper = "own";
    else if (p->kind == FERRY_VALUE_BORROWED)
        wrapper = p->exclusive ? "mut" : "ref";
    if (!wrapper)
        return ferry_value_kind_name(p->kind);
    snprintf(buf, size, "%s<%s>", wrapper, p->type_name);
    return buf;
}

/* -?[0-9]+ and nothing else: strtoll alone would skip leading blanks and
 * take a '+', and strtoull would turn "-1" into the largest value. */
static bool is_decimal(const char *text)
{
    if (*text == '-')
        text++;
    if (*text == '\0')
        return false;
    for (; *text; text++) {
        if (*text < '0' || *text > '9')
            return false;
    }
    return true;
}

static bool parse_signed(const char *text, int64_t min, int64_t max, int64_t *out, char *reason,
                         size_t size)
{
    if (!is_decimal(text)) {
        snprintf(reason, size, "'%s' is not a decimal integer", text);
        return false;
    }
    errno = 0;
    long long v = strtoll(text, NULL, 10);
    if (errno == ERANGE || v < min || v > max) {
        snprintf(reason, size, "'%s' is out of range (%" PRId64 " to %" PRId64 ")", text, min, max);
        return false;
    }
    *out = v;
    return true;
}

static bool parse_unsigned(const char *text, uint64_t max, uint64_t *out, char *reason, size_t size)
{
    if (!is_decimal(text)) {
        snprintf(reason, size, "'%s' is not a decimal integer", text);
        return false;
    }
    errno = 0;
    unsigned long long v = text[0] == '-' ? 0 : strtoull(text, NULL, 10);
    if (text[0] == '-' || errno == ERANGE || v > max) {
        snprintf(reason, size, "'%s' is out of range (0 to %" PRIu64 ")", text, max);
        return false;
    }
    *out = v;
    return true;
}

/* Anything strtod reads, "inf" and "nan" included, but all of the text and
 * without the leading blanks it would skip. */
static bool parse_float(const char *text, bool single, double *out, char *reason, size_t size)
{
    char *end = NULL;
    errno = 0;
    double v = single ? strtof(text, &end) : strtod(text, &end);
    if (end == text || *end != '\0' || isspace((unsigned char)text[0])) {
        snprintf(reason, size, "'%s' is not a number", text);
        return false;
    }
    /* ERANGE also flags a result too small for a normal number, which is
     * still the nearest value; only an overflow loses the number. */
    if (errno == ERANGE && isinf(v)) {
        snprintf(reason, size, "'%s' is out of range", text);
        return false;
    }
    *out = v;
    return true;
}

/* Well-formed UTF-8 as Unicode defines it: no overlong forms, no UTF-16
 * surrogates, nothing above U+10FFFF. */
static bool is_utf8(const unsigned char *s)
{
    while (*s) {
        unsigned c = *s++;
        unsigned more;
        uint32_t cp, min;
        if (c < 0x80)
            continue;
        if ((c & 0xE0) == 0xC0) {
            more = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            more = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            more = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        for (; more > 0; more--, s++) {
            if ((*s & 0xC0) != 0x80) /* also stops at the terminating NUL */
                return false;
            cp = cp << 6 | (*s & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
    }
    return true;
}

bool cli_parse_arg(const ferry_param *p, const char *text, ferry_value *out, char *reason,
                   size_t size)
{
    int64_t i = 0;
    uint64_t u = 0;
    double f = 0;
    switch (p->kind) {
    case FERRY_VALUE_I8:
        if (!parse_signed(text, INT8_MIN, INT8_MAX, &i, reason, size))
            return false;
        *out = ferry_value_i8((int8_t)i);
        return true;
    case FERRY_VALUE_I16:
        if (!parse_signed(text, INT16_MIN, INT16_MAX, &i, reason, size))
            return false;
        *out = ferry_value_i16((int16_t)i);
        return true;
    case FERRY_VALUE_I32:
        if (!parse_signed(text, INT32_MIN, INT32_MAX, &i, reason, size))
            return false;
        *out = ferry_value_i32((int32_t)i);
        return true;
    case FERRY_VALUE_I64:
        if (!parse_signed(text, INT64_MIN, INT64_MAX, &i, reason, size))
            return false;
        *out = ferry_value_i64(i);
        return true;
    case FERRY_VALUE_U8:
        if (!parse_unsigned(text, UINT8_MAX, &u, reason, size))
            return false;
        *out = ferry_value_u8((uint8_t)u);
        return true;
    case FERRY_VALUE_U16:
        if (!parse_unsigned(text, UINT16_MAX, &u, reason, size))
            return false;
        *out = ferry_value_u16((uint16_t)u);
        return true;
    case FERRY_VALUE_U32:
        if (!parse_unsigned(text, UINT32_MAX, &u, reason, size))
            return false;
        *out = ferry_value_u32((uint32_t)u);
        return true;
    case FERRY_VALUE_U64:
        if (!parse_unsigned(text, UINT64_MAX, &u, reason, size))
            return false;
        *out = ferry_value_u64(u);
        return true;
    case FERRY_VALUE_F32:
        if (!parse_float(text, true, &f, reason, size))
            return false;
        *out = ferry_value_f32((float)f);
        return true;
    case FERRY_VALUE_F64:
        if (!parse_float(text, false, &f, reason, size))
            return false;
        *out = ferry_value_f64(f);
        return true;
    case FERRY_VALUE_BOOL:
        if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0) {
            *out = ferry_value_bool(true);
            return true;
        }
        if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0) {
            *out = ferry_value_bool(false);
            return true;
        }
        snprintf(reason, size, "'%s' is not true, false, 1 or 0", text);
        return false;
    case FERRY_VALUE_STR:
        if (!is_utf8((const unsigned char *)text)) {
            snprintf(reason, size, "the text is not valid UTF-8");
            return false;
        }
        *out = ferry_value_str(text);
        return true;
    case FERRY_VALUE_OWNED:
    case FERRY_VALUE_BORROWED:
        snprintf(reason, size, "a handle cannot be given on the command line");
        return false;
    case FERRY_VALUE_VOID: /* only a result can be absent */
        break;
    }
    snprintf(reason, size, "the signature has no value kind here");
    return false;
}
