/*
 * subjectAltName lists (avow/x509.h): the names a TLS client matches, read
 * from people ("DNS:host,IP:192.0.2.1") and checked by the same rules when
 * they come from a request, so that the CA never copies a name a client
 * would parse differently.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <avow/x509.h>

#include "core/der.h"
#include "core/internal.h"
#include "core/x509_int.h"

#define DNS_MAX   253u
#define URI_MAX   2048u
#define LOCAL_MAX 64u

/* The problem with a name, or NULL when it is good. */
typedef const char *why;

static int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static why check_dns(const unsigned char *s, size_t n, int allow_wild, int *wild)
{
    *wild = 0;
    if (n == 0)
        return "empty DNS name";
    if (n > DNS_MAX)
        return "DNS name longer than 253 characters";
    if (s[n - 1] == '.')
        return "DNS name ends with '.'";
    size_t i = 0, labels = 0, last = 0;
    if (n >= 2 && s[0] == '*' && s[1] == '.') {
        if (!allow_wild)
            return "wildcard not allowed here";
        *wild = 1;
        i = 2;
    }
    while (i <= n) {
        size_t b = i;
        int digits = 1;
        while (i < n && s[i] != '.') {
            if (s[i] == '*')
                return "'*' is allowed only as the whole first label";
            if (!is_alnum(s[i]) && s[i] != '-')
                return "DNS name holds a character other than letters, digits, '-' and '.'";
            digits = digits && s[i] >= '0' && s[i] <= '9';
            i++;
        }
        if (i == b)
            return "empty label in DNS name";
        if (i - b > 63)
            return "DNS label longer than 63 characters";
        if (s[b] == '-' || s[i - 1] == '-')
            return "DNS label starts or ends with '-'";
        labels++;
        last = digits;
        i++;
    }
    if (last)
        return "DNS name ends in an all-digit label (an IP address is IP:)";
    if (*wild && labels < 2)
        return "a wildcard needs two labels after '*.'";
    return NULL;
}

/* RFC 3986 2: unreserved, reserved and '%' HEXDIG HEXDIG. */
static int uri_char(unsigned char c)
{
    return is_alnum(c) || (c != 0 && strchr("-._~:/?#[]@!$&'()*+,;=", c) != NULL);
}

static why check_uri(const unsigned char *s, size_t n)
{
    if (n > URI_MAX)
        return "URI longer than 2048 characters";
    size_t i = 0;
    if (n == 0 || !((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z'))
        return "URI does not start with a scheme (a letter)";
    while (i < n && (is_alnum(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    if (i == n || s[i] != ':')
        return "URI has no ':' after its scheme";
    if (i + 1 == n)
        return "URI has nothing after its scheme";
    for (i++; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n || avow__hexval((char)s[i + 1]) < 0 || avow__hexval((char)s[i + 2]) < 0)
                return "'%' in URI not followed by two hex digits";
            i += 2;
        } else if (!uri_char(s[i])) {
            return "URI holds a character RFC 3986 does not allow (space, control, quote, ...)";
        }
    }
    return NULL;
}

/* RFC 5322 3.2.3 atext. */
static int atext(unsigned char c)
{
    return is_alnum(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static why check_email(const unsigned char *s, size_t n)
{
    const unsigned char *at = memchr(s, '@', n);
    if (at == NULL)
        return "email address has no '@'";
    if (memchr(at + 1, '@', n - (size_t)(at - s) - 1) != NULL)
        return "email address has more than one '@'";
    size_t ln = (size_t)(at - s);
    if (ln == 0)
        return "email address has an empty local part";
    if (ln > LOCAL_MAX)
        return "email local part longer than 64 characters";
    if (s[0] == '.' || s[ln - 1] == '.')
        return "email local part starts or ends with '.'";
    for (size_t i = 0; i < ln; i++) {
        if (s[i] == '.' && s[i + 1] == '.')
            return "email local part holds '..'";
        if (s[i] != '.' && !atext(s[i]))
            return "email local part holds a character outside RFC 5322 atext";
    }
    int wild;
    why w = check_dns(at + 1, n - ln - 1, 0, &wild);
    return w != NULL ? "email domain is not a DNS name" : NULL;
}

static why check_ia5(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == 0 || s[i] > 0x7e || s[i] < 0x21)
            return "value holds a space, a control or a byte outside printable ASCII";
    return NULL;
}

unsigned avow_san_kind(const GENERAL_NAME *gn)
{
    if (gn == NULL)
        return 0;
    switch (gn->type) {
    case GEN_DNS: {
        const ASN1_IA5STRING *s = gn->d.dNSName;
        int n = ASN1_STRING_length(s);
        const unsigned char *p = ASN1_STRING_get0_data(s);
        return AVOW_SAN_DNS | (n >= 2 && p[0] == '*' && p[1] == '.' ? AVOW_SAN_WILDCARD : 0u);
    }
    case GEN_IPADD:
        return AVOW_SAN_IP;
    case GEN_URI:
        return AVOW_SAN_URI;
    case GEN_EMAIL:
        return AVOW_SAN_EMAIL;
    default:
        return 0;
    }
}

static why check_value(int type, const unsigned char *s, size_t n)
{
    int wild;
    why w = type == GEN_IPADD ? NULL : check_ia5(s, n);
    if (w != NULL)
        return w;
    switch (type) {
    case GEN_DNS:
        return check_dns(s, n, 1, &wild);
    case GEN_URI:
        return check_uri(s, n);
    case GEN_EMAIL:
        return check_email(s, n);
    case GEN_IPADD:
        return n == 4 || n == 16 ? NULL : "iPAddress is not 4 or 16 bytes";
    default:
        return "unsupported kind";
    }
}

static const char *kind_name(int type)
{
    switch (type) {
    case GEN_DNS:
        return "DNS";
    case GEN_IPADD:
        return "IP";
    case GEN_URI:
        return "URI";
    case GEN_EMAIL:
        return "email";
    case GEN_OTHERNAME:
        return "otherName";
    case GEN_X400:
        return "x400Address";
    case GEN_DIRNAME:
        return "directoryName";
    case GEN_EDIPARTY:
        return "ediPartyName";
    case GEN_RID:
        return "registeredID";
    default:
        return "?";
    }
}

avow_err avow_san_check(const GENERAL_NAME *gn, avow_diag *diag)
{
    if (gn == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "san", "no name");
    if (avow_san_kind(gn) == 0)
        return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "san",
                          "%s: avow handles DNS, IP, URI and email names", kind_name(gn->type));
    const ASN1_STRING *s = gn->type == GEN_IPADD ? gn->d.iPAddress : gn->d.ia5;
    why w = check_value(gn->type, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
    if (w != NULL)
        return avow__fail(diag, AVOW_ERR_BAD_SAN, "san", "%s: %s", kind_name(gn->type), w);
    return AVOW_OK;
}

/* One "KIND:value" (escapes already removed) as a GENERAL_NAME. */
static avow_err make_one(const char *entry, size_t at, GENERAL_NAME **out, avow_diag *diag)
{
    static const struct {
        const char *prefix;
        int type;
    } KINDS[] = {{"DNS:", GEN_DNS}, {"IP:", GEN_IPADD}, {"URI:", GEN_URI}, {"email:", GEN_EMAIL}};
    char field[24];
    snprintf(field, sizeof(field), "san[%zu]", at);
    int type = -1;
    const char *v = NULL;
    for (size_t i = 0; i < sizeof(KINDS) / sizeof(KINDS[0]); i++) {
        size_t pl = strlen(KINDS[i].prefix);
        if (strncasecmp(entry, KINDS[i].prefix, pl) == 0) {
            type = KINDS[i].type;
            v = entry + pl;
        }
    }
    if (type < 0)
        return avow__fail(diag, AVOW_ERR_BAD_SAN, field,
                          "\"%.40s\": want DNS:, IP:, URI: or email: before the value", entry);
    unsigned char ip[16];
    size_t n = strlen(v);
    const unsigned char *bytes = (const unsigned char *)v;
    if (type == GEN_IPADD) {
        if (inet_pton(AF_INET, v, ip) == 1) {
            n = 4;
        } else if (inet_pton(AF_INET6, v, ip) == 1) {
            n = 16;
        } else {
            return avow__fail(diag, AVOW_ERR_BAD_SAN, field,
                              "IP:%.60s: not an IPv4 or IPv6 address", v);
        }
        bytes = ip;
    }
    why w = check_value(type, bytes, n);
    if (w != NULL)
        return avow__fail(diag, AVOW_ERR_BAD_SAN, field, "%s: %s", kind_name(type), w);
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_STRING *s = type == GEN_IPADD ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
    if (gn == NULL || s == NULL || ASN1_STRING_set(s, bytes, (int)n) != 1) {
        GENERAL_NAME_free(gn);
        ASN1_STRING_free(s);
        return avow__fail(diag, AVOW_ERR_NOMEM, field, "out of memory");
    }
    GENERAL_NAME_set0_value(gn, type, s);
    *out = gn;
    return AVOW_OK;
}

avow_err avow_san_parse(const char *text, GENERAL_NAMES *names, avow_diag *diag)
{
    if (text == NULL || names == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "san", "no text or no list");
    size_t len = strnlen(text, AVOW_SAN_MAX * (URI_MAX + 8) + 1);
    int had = sk_GENERAL_NAME_num(names);
    char *entry = OPENSSL_malloc(len + 1);
    if (entry == NULL || had < 0) {
        OPENSSL_free(entry);
        return avow__fail(diag, AVOW_ERR_NOMEM, "san", "out of memory");
    }
    avow_err rc = AVOW_OK;
    const char *p = text;
    while (rc == AVOW_OK) {
        while (*p == ' ')
            p++;
        size_t n = 0;
        for (; *p != '\0' && *p != ','; p++) {
            if (*p == '\\' && (p[1] == ',' || p[1] == '\\'))
                p++;
            else if (*p == '\\')
                rc = avow__fail(diag, AVOW_ERR_BAD_SAN, "san",
                                "'\\' must be followed by ',' or '\\'");
            entry[n++] = *p;
        }
        entry[n] = '\0';
        size_t at = (size_t)sk_GENERAL_NAME_num(names);
        if (rc == AVOW_OK && n == 0)
            rc = avow__fail(diag, AVOW_ERR_BAD_SAN, "san",
                            *p == ',' || p > text ? "empty entry in the list" : "empty list");
        if (rc == AVOW_OK && at >= AVOW_SAN_MAX)
            rc = avow__fail(diag, AVOW_ERR_TOO_LARGE, "san", "more than %u names", AVOW_SAN_MAX);
        GENERAL_NAME *gn = NULL;
        if (rc == AVOW_OK)
            rc = make_one(entry, at, &gn, diag);
        if (rc == AVOW_OK && sk_GENERAL_NAME_push(names, gn) <= 0) {
            GENERAL_NAME_free(gn);
            rc = avow__fail(diag, AVOW_ERR_NOMEM, "san", "out of memory");
        }
        if (*p == '\0')
            break;
        p++;
    }
    OPENSSL_free(entry);
    if (rc != AVOW_OK)
        while (sk_GENERAL_NAME_num(names) > had)
            GENERAL_NAME_free(sk_GENERAL_NAME_pop(names));
    return rc;
}

avow_err avow_san_kinds_parse(const char *text, unsigned *kinds, avow_diag *diag)
{
    static const struct {
        const char *name;
        unsigned bits;
    } WORDS[] = {{"dns", AVOW_SAN_DNS},
                 {"ip", AVOW_SAN_IP},
                 {"uri", AVOW_SAN_URI},
                 {"email", AVOW_SAN_EMAIL},
                 {"wildcard", AVOW_SAN_WILDCARD},
                 {"all", AVOW_SAN_ALL},
                 {"none", 0}};
    if (text == NULL || kinds == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "san_allow", "no text or no output");
    unsigned bits = 0;
    const char *p = text;
    for (;;) {
        size_t n = strcspn(p, ",");
        size_t i = 0;
        while (i < sizeof(WORDS) / sizeof(WORDS[0]) &&
               (strlen(WORDS[i].name) != n || strncasecmp(p, WORDS[i].name, n) != 0))
            i++;
        if (i == sizeof(WORDS) / sizeof(WORDS[0]))
            return avow__fail(diag, AVOW_ERR_ARG, "san_allow",
                              "\"%.*s\": want dns, ip, uri, email, wildcard, all or none",
                              (int)(n < 40 ? n : 40), p);
        bits |= WORDS[i].bits;
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    *kinds = bits;
    return AVOW_OK;
}

avow_err avow_san_text(const GENERAL_NAMES *names, avow_buf *out)
{
    if (names == NULL || out == NULL)
        return AVOW_ERR_ARG;
    out->ptr = NULL;
    out->len = 0;
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return AVOW_ERR_NOMEM;
    int ok = 1;
    for (int i = 0; ok && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        const char *sep = i > 0 ? ", " : "";
        unsigned kind = avow_san_kind(gn);
        if (kind == AVOW_SAN_IP) {
            const ASN1_OCTET_STRING *s = gn->d.iPAddress;
            char ip[INET6_ADDRSTRLEN];
            int l = ASN1_STRING_length(s);
            if ((l == 4 || l == 16) && inet_ntop(l == 4 ? AF_INET : AF_INET6,
                                                 ASN1_STRING_get0_data(s), ip, sizeof(ip)) != NULL)
                ok = BIO_printf(b, "%sIP:%s", sep, ip) > 0;
            else
                ok = BIO_printf(b, "%sIP:<%d bytes>", sep, l) > 0;
        } else if (kind != 0) {
            const ASN1_STRING *s = gn->d.ia5;
            ok = BIO_printf(b, "%s%s:", sep, kind_name(gn->type)) > 0 &&
                 (ASN1_STRING_length(s) == 0 ||
                  BIO_write(b, ASN1_STRING_get0_data(s), ASN1_STRING_length(s)) > 0);
        } else {
            ok = BIO_printf(b, "%s%s:<unsupported>", sep, kind_name(gn->type)) > 0;
        }
    }
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    if (n < 0)
        n = 0;
    avow_err rc = ok ? AVOW_OK : AVOW_ERR_NOMEM;
    if (rc == AVOW_OK && (out->ptr = OPENSSL_malloc((size_t)n + 1)) == NULL)
        rc = AVOW_ERR_NOMEM;
    if (rc == AVOW_OK) {
        if (n > 0)
            memcpy(out->ptr, data, (size_t)n);
        out->ptr[n] = 0;
        out->len = (size_t)n;
    }
    BIO_free(b);
    return rc;
}

avow_err avow__san_ext(const GENERAL_NAMES *names, int critical, X509_EXTENSION **out,
                       avow_diag *diag)
{
    X509_EXTENSION *e =
        X509V3_EXT_i2d(NID_subject_alt_name, critical ? 1 : 0, (void *)(uintptr_t)names);
    if (e == NULL)
        return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "subjectAltName", "cannot encode");
    *out = e;
    return AVOW_OK;
}

avow_err avow__san_from_exts(const STACK_OF(X509_EXTENSION) * exts, const char *where,
                             GENERAL_NAMES **out, avow_diag *diag)
{
    *out = NULL;
    char field[64];
    snprintf(field, sizeof(field), "%s.subjectAltName", where);
    int i = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
    if (i < 0)
        return AVOW_OK;
    int j = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, i);
    if (j >= 0)
        return avow__fail(diag, AVOW_ERR_DUP_ATTRIBUTE, field, "appears at %d and %d", i, j);
    const ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(sk_X509_EXTENSION_value(exts, i));
    const unsigned char *p = ASN1_STRING_get0_data(os), *q = p;
    size_t len = (size_t)ASN1_STRING_length(os);
    avow_err rc = avow__der_check(p, len, 8);
    if (rc != AVOW_OK)
        return avow__fail(diag, rc, field, "extension value is not DER");
    GENERAL_NAMES *names = d2i_GENERAL_NAMES(NULL, &q, (long)len);
    if (names == NULL || q != p + len) {
        GENERAL_NAMES_free(names);
        ERR_clear_error();
        return avow__fail(diag, AVOW_ERR_MALFORMED, field,
                          "extension value is not one GeneralNames");
    }
    int n = sk_GENERAL_NAME_num(names);
    if (n <= 0 || (size_t)n > AVOW_SAN_MAX) {
        GENERAL_NAMES_free(names);
        if (n <= 0)
            return avow__fail(diag, AVOW_ERR_EMPTY, field, "no names");
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, field, "more than %u names", AVOW_SAN_MAX);
    }
    *out = names;
    return AVOW_OK;
}
