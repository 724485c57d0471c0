/*
 * Distinguished names from people and for people (avow/x509.h): the one
 * reader of subject text (RFC 4514 and OpenSSL's slash form) and the one
 * writer, so that a name typed on the command line and a name printed by
 * avow read the same way.
 */
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <avow/x509.h>

#include "core/internal.h"

/* RFC 4514 3: the names a reader must know, matched in any case. */
static const struct {
    const char *name;
    int nid;
} RFC4514_TYPES[] = {
    {"CN", NID_commonName},
    {"L", NID_localityName},
    {"ST", NID_stateOrProvinceName},
    {"O", NID_organizationName},
    {"OU", NID_organizationalUnitName},
    {"C", NID_countryName},
    {"STREET", NID_streetAddress},
    {"DC", NID_domainComponent},
    {"UID", NID_userId},
};

/* One attribute read from the text; value points into the parser's scratch copy. */
typedef struct ava {
    ASN1_OBJECT *obj;
    int type; /* MBSTRING_UTF8, or the ASN.1 string tag of a "#hex" value */
    unsigned char *value;
    size_t len;
    int starts_rdn; /* the first attribute of its RDN */
    char tname[72]; /* the type as written, for messages */
} ava;

typedef struct parser {
    const char *p;
    char sep;  /* ',' (RFC 4514) or '/' (OpenSSL) */
    char plus; /* '+' between the attributes of an RDN; 0 in OpenSSL's form, where it is text */
    ava avas[AVOW_NAME_MAX_ATTRS];
    size_t n;
    avow_diag *diag;
} parser;

/* Fails naming the attribute being read (its place and type) and what is wrong with it. */
static avow_err bad(parser *ps, const char *what)
{
    const char *t = ps->avas[ps->n].tname;
    return avow__fail(ps->diag, AVOW_ERR_BAD_DN, "subject", "attribute %zu (%s): %s", ps->n + 1,
                      t[0] != '\0' ? t : "no type", what);
}

static ASN1_OBJECT *type_obj(const char *t)
{
    for (size_t i = 0; i < sizeof(RFC4514_TYPES) / sizeof(RFC4514_TYPES[0]); i++)
        if (strcasecmp(t, RFC4514_TYPES[i].name) == 0)
            return OBJ_nid2obj(RFC4514_TYPES[i].nid);
    if (strncasecmp(t, "OID.", 4) == 0)
        t += 4;
    ASN1_OBJECT *o = OBJ_txt2obj(t, 0);
    ERR_clear_error();
    return o;
}

static avow_err read_type(parser *ps, ava *a)
{
    while (*ps->p == ' ')
        ps->p++;
    const char *s = ps->p;
    size_t n = 0;
    while (s[n] == '-' || s[n] == '.' || (s[n] >= '0' && s[n] <= '9') ||
           ((s[n] | 0x20) >= 'a' && (s[n] | 0x20) <= 'z'))
        n++;
    snprintf(a->tname, sizeof(a->tname), "%.*s", (int)(n < 64 ? n : 64), s);
    const char *e = s + n;
    while (*e == ' ')
        e++;
    if (n == 0)
        return bad(ps, "no type before '=' (want TYPE=value)");
    if (*e != '=')
        return bad(ps, *e == '\0' ? "no '=' after the type" : "type is not a name or OID");
    if (n >= 64)
        return bad(ps, "type too long");
    a->obj = type_obj(a->tname);
    if (a->obj == NULL)
        return bad(ps, "unknown attribute type");
    ps->p = e + 1;
    while (*ps->p == ' ')
        ps->p++;
    return AVOW_OK;
}

/* UTF-8 well-formed (no overlong forms, surrogates or values past U+10FFFF), no NUL. */
static int utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k = c < 0x80             ? 1
                   : (c & 0xe0) == 0xc0 ? 2
                   : (c & 0xf0) == 0xe0 ? 3
                   : (c & 0xf8) == 0xf0 ? 4
                                        : 0;
        if (c == 0 || k == 0 || i + k > n)
            return 0;
        unsigned long v = k == 1 ? c : c & (0x7fu >> k);
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
            v = (v << 6) | (s[i + j] & 0x3fu);
        }
        static const unsigned long min[] = {0, 0, 0x80, 0x800, 0x10000};
        if (v < min[k] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
            return 0;
        i += k;
    }
    return 1;
}

/* "#hex": the DER of one ASN.1 string; its content and tag go to a. */
static avow_err read_hex(parser *ps, ava *a, unsigned char *w)
{
    const char *s = ps->p + 1;
    size_t n = 0;
    while (avow__hexval(s[n]) >= 0 && avow__hexval(s[n + 1]) >= 0) {
        w[n / 2] = (unsigned char)(avow__hexval(s[n]) << 4 | avow__hexval(s[n + 1]));
        n += 2;
    }
    ps->p = s + n;
    while (*ps->p == ' ')
        ps->p++;
    if (n == 0 || (*ps->p != '\0' && *ps->p != ps->sep && *ps->p != ps->plus))
        return bad(ps, "'#' must be followed by hex pairs of DER");
    const unsigned char *q = w;
    ASN1_TYPE *t = d2i_ASN1_TYPE(NULL, &q, (long)(n / 2));
    int ok = t != NULL && q == w + n / 2;
    int tag = ok ? t->type : -1;
    ok = ok &&
         (tag == V_ASN1_UTF8STRING || tag == V_ASN1_PRINTABLESTRING || tag == V_ASN1_IA5STRING ||
          tag == V_ASN1_BMPSTRING || tag == V_ASN1_T61STRING || tag == V_ASN1_NUMERICSTRING ||
          tag == V_ASN1_UNIVERSALSTRING || tag == V_ASN1_VISIBLESTRING);
    unsigned char *again = NULL;
    int alen = ok ? i2d_ASN1_TYPE(t, &again) : -1;
    ok = ok && alen > 0 && (size_t)alen == n / 2 && memcmp(again, w, n / 2) == 0;
    OPENSSL_free(again);
    if (ok) {
        size_t cl = (size_t)ASN1_STRING_length(t->value.asn1_string);
        memmove(w, ASN1_STRING_get0_data(t->value.asn1_string), cl);
        a->value = w;
        a->len = cl;
        a->type = tag;
    }
    ASN1_TYPE_free(t);
    ERR_clear_error();
    if (!ok)
        return bad(ps, "'#' value is not the DER of one ASN.1 string type");
    if (a->len == 0)
        return bad(ps, "empty value");
    return AVOW_OK;
}

/* A string value with escapes resolved into w; unescaped trailing spaces dropped. */
static avow_err read_string(parser *ps, ava *a, unsigned char *w)
{
    const char *s = ps->p;
    size_t n = 0, keep = 0;
    for (; *s != '\0' && *s != ps->sep && (ps->plus == 0 || *s != ps->plus); s++) {
        if (*s == '\\') {
            int hi = avow__hexval(s[1]), lo = hi >= 0 ? avow__hexval(s[2]) : -1;
            if (hi >= 0 && lo >= 0) {
                w[n++] = (unsigned char)(hi << 4 | lo);
                s += 2;
            } else if (s[1] != '\0' && strchr(" \"#+,;<=>\\/", s[1]) != NULL) {
                w[n++] = (unsigned char)*++s;
            } else {
                char what[96];
                snprintf(what, sizeof(what),
                         "bad escape \"\\%c\": escape one of \" #+,;<=>\\/ or give two hex digits",
                         s[1] != '\0' ? s[1] : ' ');
                return bad(ps, what);
            }
            keep = n;
            continue;
        }
        if (ps->sep == ',' && strchr("\";<>", *s) != NULL) {
            char what[64];
            snprintf(what, sizeof(what), "unescaped '%c' (write \\%c)", *s, *s);
            return bad(ps, what);
        }
        w[n++] = (unsigned char)*s;
        if (*s != ' ')
            keep = n;
    }
    ps->p = s;
    a->value = w;
    a->len = keep;
    a->type = MBSTRING_UTF8;
    if (keep == 0)
        return bad(ps, "empty value");
    if (!utf8_ok(w, keep))
        return bad(ps, "value is not UTF-8 or holds a NUL");
    return AVOW_OK;
}

static avow_err parse_all(parser *ps, unsigned char *scratch)
{
    int starts = 1;
    for (;;) {
        if (ps->n >= AVOW_NAME_MAX_ATTRS)
            return avow__fail(ps->diag, AVOW_ERR_TOO_LARGE, "subject", "more than %u attributes",
                              AVOW_NAME_MAX_ATTRS);
        ava *a = &ps->avas[ps->n];
        memset(a, 0, sizeof(*a));
        a->starts_rdn = starts;
        avow_err rc = read_type(ps, a);
        if (rc == AVOW_OK)
            rc = *ps->p == '#' ? read_hex(ps, a, scratch) : read_string(ps, a, scratch);
        if (rc != AVOW_OK) {
            ASN1_OBJECT_free(a->obj);
            a->obj = NULL;
            return rc;
        }
        scratch += a->len;
        ps->n++;
        if (*ps->p == '\0')
            return AVOW_OK;
        char sep = *ps->p++;
        starts = sep == ps->sep;
        while (*ps->p == ' ')
            ps->p++;
        if (*ps->p == '\0')
            return avow__fail(ps->diag, AVOW_ERR_BAD_DN, "subject", "nothing after the last '%c'",
                              sep);
    }
}

/* The attributes into a name: RFC 4514 text holds RDNs in reverse order. */
static avow_err build(parser *ps, X509_NAME *name)
{
    size_t i;
    /* Group the attributes into RDNs: [start, end) in text order. */
    size_t starts[AVOW_NAME_MAX_ATTRS], nrdn = 0;
    for (i = 0; i < ps->n; i++)
        if (ps->avas[i].starts_rdn)
            starts[nrdn++] = i;
    for (size_t r = 0; r < nrdn; r++) {
        size_t k = ps->sep == ',' ? nrdn - 1 - r : r;
        size_t b = starts[k], e = k + 1 < nrdn ? starts[k + 1] : ps->n;
        for (size_t j = b; j < e; j++) {
            const ava *a = &ps->avas[j];
            if (X509_NAME_add_entry_by_OBJ(name, a->obj, a->type, a->value, (int)a->len, -1,
                                           j == b ? 0 : -1) != 1) {
                ps->n = j;
                return avow__fail_ossl(ps->diag, AVOW_ERR_BAD_DN, "subject",
                                       "attribute %s: value not allowed for this type", a->tname);
            }
        }
    }
    return AVOW_OK;
}

avow_err avow_name_parse(const char *text, X509_NAME **out, avow_diag *diag)
{
    if (text == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "subject", "no text or no output");
    *out = NULL;
    size_t len = strnlen(text, AVOW_NAME_MAX_TEXT + 1);
    if (len > AVOW_NAME_MAX_TEXT)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "subject", "longer than %u bytes",
                          AVOW_NAME_MAX_TEXT);
    const char *start = text;
    while (*start == ' ')
        start++;
    if (*start == '\0' || (start[0] == '/' && start[1] == '\0'))
        return avow__fail(diag, AVOW_ERR_BAD_DN, "subject", "empty name");
    parser ps;
    memset(&ps, 0, sizeof(ps));
    ps.diag = diag;
    ps.sep = ',';
    ps.plus = '+';
    ps.p = start;
    if (*start == '/') {
        /* as `openssl req -subj` reads it without -multivalue-rdn */
        ps.sep = '/';
        ps.plus = 0;
        ps.p++;
    }
    unsigned char *scratch = OPENSSL_malloc(len + 1);
    X509_NAME *name = X509_NAME_new();
    avow_err rc = AVOW_ERR_NOMEM;
    if (scratch != NULL && name != NULL)
        rc = parse_all(&ps, scratch);
    else
        avow__fail(diag, rc, "subject", "out of memory");
    if (rc == AVOW_OK)
        rc = build(&ps, name);
    for (size_t i = 0; i < AVOW_NAME_MAX_ATTRS; i++)
        ASN1_OBJECT_free(ps.avas[i].obj);
    OPENSSL_free(scratch);
    ERR_clear_error();
    if (rc != AVOW_OK) {
        X509_NAME_free(name);
        return rc;
    }
    *out = name;
    return AVOW_OK;
}

avow_err avow_name_text(const X509_NAME *name, avow_buf *out)
{
    if (name == NULL || out == NULL)
        return AVOW_ERR_ARG;
    out->ptr = NULL;
    out->len = 0;
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return AVOW_ERR_NOMEM;
    /* RFC 2253 flags reverse the RDNs (most specific first); UTF-8 is left for the caller's
     * escaping, which shows every non-ASCII byte the same way. */
    avow_err rc = AVOW_OK;
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
        rc = AVOW_ERR_CRYPTO;
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    if (n < 0)
        n = 0;
    if (rc == AVOW_OK && (out->ptr = OPENSSL_malloc((size_t)n + 1)) == NULL)
        rc = AVOW_ERR_NOMEM;
    if (rc == AVOW_OK) {
        if (n > 0)
            memcpy(out->ptr, data, (size_t)n);
        out->ptr[n] = 0;
        out->len = (size_t)n;
    }
    BIO_free(b);
    ERR_clear_error();
    return rc;
}
