/*
 * An avow_signer whose private key stays in a PKCS#11 token. The hash is
 * computed here with OpenSSL and only the raw signing primitive runs in the
 * token, because single-part CKM_ECDSA / CKM_RSA_PKCS(_PSS) over a digest is
 * what nearly every token implements, while the hash-and-sign mechanisms are
 * optional (CKM_SHA*_RSA_PKCS is kept as a fallback).
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "backend/pkcs11/pkcs11_int.h"

typedef struct p11_signer {
    avow_p11_session *s; /* one reference held */
    CK_OBJECT_HANDLE key;
    CK_KEY_TYPE kt;
    int always_auth;  /* CKA_ALWAYS_AUTHENTICATE: log in again at each C_SignInit */
    CK_ULONG sig_max; /* a signature's size bound, from the public key */
} p11_signer;

/* DER prefixes of DigestInfo for SHA-256/384/512 (RFC 8017, section 9.2 note 1). */
static const uint8_t di_sha256[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                    0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
static const uint8_t di_sha384[] = {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                    0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30};
static const uint8_t di_sha512[] = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                    0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40};

/*
 * What PKCS#11 calls each hash of the algorithm table: the algorithms
 * themselves (family, hash, salt) come from avow/sigalg.h, only the CKM_*
 * numbers live here.
 */
typedef struct hash_mechs {
    avow_hash hash;
    CK_MECHANISM_TYPE ckm;         /* CK_RSA_PKCS_PSS_PARAMS.hashAlg */
    CK_RSA_PKCS_MGF_TYPE mgf;      /* MGF1 over the same hash */
    CK_MECHANISM_TYPE pkcs1_whole; /* hash-and-sign PKCS#1 v1.5 */
    CK_MECHANISM_TYPE pss_whole;   /* hash-and-sign PSS */
    const uint8_t *di;             /* PKCS#1 v1.5 DigestInfo prefix */
    size_t di_len;
} hash_mechs;

static const hash_mechs HASH_MECHS[] = {
    {AVOW_HASH_SHA256, CKM_SHA256, CKG_MGF1_SHA256, CKM_SHA256_RSA_PKCS, CKM_SHA256_RSA_PKCS_PSS,
     di_sha256, sizeof(di_sha256)},
    {AVOW_HASH_SHA384, CKM_SHA384, CKG_MGF1_SHA384, CKM_SHA384_RSA_PKCS, CKM_SHA384_RSA_PKCS_PSS,
     di_sha384, sizeof(di_sha384)},
    {AVOW_HASH_SHA512, CKM_SHA512, CKG_MGF1_SHA512, CKM_SHA512_RSA_PKCS, CKM_SHA512_RSA_PKCS_PSS,
     di_sha512, sizeof(di_sha512)},
};

typedef struct alg_plan {
    CK_KEY_TYPE kt;
    const char *md;           /* OpenSSL digest name */
    CK_MECHANISM_TYPE mech;   /* over the digest (or DigestInfo) */
    CK_MECHANISM_TYPE whole;  /* hash-and-sign fallback over the data; 0 = none */
    CK_MECHANISM_TYPE hash;   /* PSS: CK_RSA_PKCS_PSS_PARAMS.hashAlg */
    CK_RSA_PKCS_MGF_TYPE mgf; /* PSS */
    CK_ULONG salt;            /* PSS */
    const uint8_t *di;        /* PKCS#1 v1.5: DigestInfo prefix */
    size_t di_len;
} alg_plan;

/*
 * The mechanism for alg, from the table's family and hash. Only algorithms
 * whose digest is computed outside the token (prehash) have one: the raw
 * primitive over a digest is what every token implements.
 */
static int plan_for(avow_sigalg alg, alg_plan *p)
{
    memset(p, 0, sizeof(*p));
    const avow_sigalg_desc *a = avow_sigalg_info(alg);
    if (a == NULL || !a->prehash)
        return 0;
    const hash_mechs *h = NULL;
    for (size_t i = 0; i < sizeof(HASH_MECHS) / sizeof(HASH_MECHS[0]); i++)
        if (HASH_MECHS[i].hash == a->hash)
            h = &HASH_MECHS[i];
    if (h == NULL)
        return 0;
    p->md = a->hash_name;
    switch (a->family) {
    case AVOW_SIGALG_FAMILY_ECDSA:
        p->kt = CKK_EC;
        p->mech = CKM_ECDSA;
        return 1;
    case AVOW_SIGALG_FAMILY_RSA_PKCS1:
        p->kt = CKK_RSA;
        p->mech = CKM_RSA_PKCS;
        p->whole = h->pkcs1_whole;
        p->di = h->di;
        p->di_len = h->di_len;
        return 1;
    case AVOW_SIGALG_FAMILY_RSA_PSS:
        p->kt = CKK_RSA;
        p->mech = CKM_RSA_PKCS_PSS;
        p->whole = h->pss_whole;
        p->hash = h->ckm;
        p->mgf = h->mgf;
        p->salt = (CK_ULONG)a->pss_salt_len;
        return 1;
    default:
        return 0;
    }
}

/*
 * One C_SignInit + C_Sign into a buffer sized from the public key up front:
 * PKCS#11 2.40 has no way to abandon an operation once C_SignInit succeeded
 * except by finishing it, so nothing that can fail may come between them.
 */
static avow_err token_sign(p11_signer *ps, CK_MECHANISM *mech, const uint8_t *in, size_t len,
                           avow_buf *sig, CK_RV *init_rv, avow_diag *d)
{
    CK_FUNCTION_LIST *fl = ps->s->fl;
    CK_SESSION_HANDLE h = ps->s->h;
    *init_rv = CKR_OK;
    if (ps->always_auth && ps->s->pin.ptr == NULL)
        return avow__fail(d, AVOW_ERR_STATE, "pkcs11",
                          "key has CKA_ALWAYS_AUTHENTICATE; log in with a PIN first");
    CK_ULONG cap = ps->sig_max;
    uint8_t *buf = OPENSSL_malloc(cap);
    if (buf == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, NULL, "out of memory");

    CK_RV rv = fl->C_SignInit(h, mech, ps->key);
    avow__ossl_clear(); /* the module's OpenSSL, if any, shares our queue */
    *init_rv = rv;
    if (rv != CKR_OK) {
        OPENSSL_free(buf);
        avow_err code = rv == CKR_USER_NOT_LOGGED_IN ? AVOW_ERR_STATE : AVOW_ERR_PKCS11;
        return avow__p11_fail(d, code, rv, "C_SignInit",
                              rv == CKR_USER_NOT_LOGGED_IN ? "log in first" : NULL);
    }
    if (ps->always_auth) {
        rv = fl->C_Login(h, CKU_CONTEXT_SPECIFIC, ps->s->pin.ptr, (CK_ULONG)(ps->s->pin.len - 1));
        avow__ossl_clear();
        if (rv != CKR_OK) {
            /* Finish the operation so the session is usable again. */
            CK_ULONG n = cap;
            fl->C_Sign(h, (CK_BYTE *)in, (CK_ULONG)len, buf, &n);
            avow__ossl_clear();
            OPENSSL_free(buf);
            return avow__p11_fail(d, AVOW_ERR_PIN, rv, "C_Login(CKU_CONTEXT_SPECIFIC)", NULL);
        }
    }
    CK_ULONG n = cap;
    rv = fl->C_Sign(h, (CK_BYTE *)in, (CK_ULONG)len, buf, &n);
    avow__ossl_clear();
    if (rv == CKR_BUFFER_TOO_SMALL && n > cap) {
        /* The operation is still active after this answer; retry at its size. */
        uint8_t *bigger = OPENSSL_realloc(buf, n);
        if (bigger != NULL) {
            buf = bigger;
            rv = fl->C_Sign(h, (CK_BYTE *)in, (CK_ULONG)len, buf, &n);
            avow__ossl_clear();
        }
    }
    if (rv != CKR_OK) {
        OPENSSL_free(buf);
        return avow__p11_fail(d, AVOW_ERR_PKCS11, rv, "C_Sign", NULL);
    }
    sig->ptr = buf;
    sig->len = n;
    return AVOW_OK;
}

/* PKCS#11 gives r || s, each as long as the order; X.509 wants ECDSA-Sig-Value. */
static avow_err ecdsa_to_der(const avow_buf *raw, avow_buf *out, avow_diag *d)
{
    if (raw->len == 0 || raw->len % 2 != 0)
        return avow__fail(d, AVOW_ERR_PKCS11, "signature", "C_Sign returned %zu bytes, not r || s",
                          raw->len);
    size_t half = raw->len / 2;
    BIGNUM *r = BN_bin2bn(raw->ptr, (int)half, NULL);
    BIGNUM *s = BN_bin2bn(raw->ptr + half, (int)half, NULL);
    ECDSA_SIG *es = ECDSA_SIG_new();
    if (r == NULL || s == NULL || es == NULL || !ECDSA_SIG_set0(es, r, s)) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return avow__fail_ossl(d, AVOW_ERR_NOMEM, NULL, "out of memory");
    }
    unsigned char *der = NULL;
    int n = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es);
    if (n <= 0)
        return avow__fail_ossl(d, AVOW_ERR_CRYPTO, "signature", "i2d_ECDSA_SIG");
    out->ptr = der;
    out->len = (size_t)n;
    return AVOW_OK;
}

static avow_err p11_sign(void *impl, avow_sigalg alg, const uint8_t *data, size_t len,
                         avow_buf *sig, avow_diag *d)
{
    p11_signer *ps = impl;
    alg_plan p;
    if (!plan_for(alg, &p) || p.kt != ps->kt)
        return avow__fail(d, AVOW_ERR_ALG_MISMATCH, "alg", "%s does not fit the token key",
                          avow_sigalg_name(alg) ? avow_sigalg_name(alg) : "algorithm");

    /* room for the longest DigestInfo prefix and a SHA-512 hash */
    uint8_t in[sizeof(di_sha512) + EVP_MAX_MD_SIZE];
    unsigned int hlen = 0;
    if (p.di_len > 0) /* memcpy from NULL is undefined even for 0 bytes */
        memcpy(in, p.di, p.di_len);
    if (!EVP_Digest(data, len, in + p.di_len, &hlen, EVP_get_digestbyname(p.md), NULL))
        return avow__fail_ossl(d, AVOW_ERR_CRYPTO, "signature", "EVP_Digest %s", p.md);

    CK_RSA_PKCS_PSS_PARAMS pss = {p.hash, p.mgf, p.salt};
    CK_MECHANISM mech = {p.mech, NULL, 0};
    if (p.mech == CKM_RSA_PKCS_PSS) {
        mech.pParameter = &pss;
        mech.ulParameterLen = sizeof(pss);
    }
    avow_buf raw = {0};
    CK_RV init_rv = CKR_OK;
    avow_err e = token_sign(ps, &mech, in, p.di_len + hlen, &raw, &init_rv, d);
    if (e != AVOW_OK && init_rv == CKR_MECHANISM_INVALID && p.whole) {
        /* The token wants to hash itself: hand it the data. */
        mech.mechanism = p.whole;
        e = token_sign(ps, &mech, data, len, &raw, &init_rv, d);
    }
    OPENSSL_cleanse(in, sizeof(in));
    if (e != AVOW_OK)
        return e;
    if (p.kt != CKK_EC) {
        *sig = raw;
        return AVOW_OK;
    }
    e = ecdsa_to_der(&raw, sig, d);
    avow_buf_free(&raw);
    return e;
}

static void p11_signer_free(void *impl)
{
    p11_signer *ps = impl;
    if (ps == NULL)
        return;
    avow_p11_session_free(ps->s);
    OPENSSL_free(ps);
}

static const avow_signer_ops p11_ops = {sizeof(avow_signer_ops), "pkcs11", p11_sign,
                                        p11_signer_free};

avow_err avow_p11_signer_new(avow_p11_session *s, avow_p11_handle handle, avow_sigalg alg,
                             avow_signer **out, avow_diag *diag)
{
    CK_OBJECT_HANDLE key = avow__p11_h(handle);
    if (out != NULL)
        *out = NULL;
    if (s == NULL || key == 0 || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, NULL, "no session, key or output");
    *out = NULL;
    CK_ULONG kt = 0;
    int present = 0;
    avow_err e = avow__p11_ulong(s, key, CKA_KEY_TYPE, &kt, &present, diag);
    if (e != AVOW_OK)
        return e;
    if (!present || (kt != CKK_EC && kt != CKK_RSA))
        return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "CKA_KEY_TYPE",
                          "only EC and RSA token keys can sign");
    int always = 0;
    e = avow__p11_bool(s, key, CKA_ALWAYS_AUTHENTICATE, &always, diag);
    if (e != AVOW_OK)
        return e;

    EVP_PKEY *pub = NULL;
    e = avow_p11_get1_pubkey(s, handle, &pub, diag);
    if (e != AVOW_OK)
        return e;
    if (alg == AVOW_SIGALG_NONE && (e = avow_sigalg_for_key(pub, 0, &alg)) != AVOW_OK) {
        EVP_PKEY_free(pub);
        return avow__fail(diag, e, "alg", "no default algorithm for the token key");
    }
    alg_plan p;
    if (!plan_for(alg, &p) || p.kt != kt) {
        EVP_PKEY_free(pub);
        return avow__fail(diag, AVOW_ERR_ALG_MISMATCH, "alg", "%s does not fit a %s token key",
                          avow_sigalg_name(alg) ? avow_sigalg_name(alg) : "algorithm",
                          kt == CKK_EC ? "EC" : "RSA");
    }

    p11_signer *ps = OPENSSL_zalloc(sizeof(*ps));
    if (ps == NULL) {
        EVP_PKEY_free(pub);
        return avow__fail(diag, AVOW_ERR_NOMEM, NULL, "out of memory");
    }
    ps->s = s;
    ps->key = key;
    ps->kt = kt;
    ps->always_auth = always == 1;
    /* EVP_PKEY_get_size bounds the DER form, which is longer than r || s. */
    ps->sig_max = (CK_ULONG)(EVP_PKEY_get_size(pub) > 0 ? EVP_PKEY_get_size(pub) : 1024);
    avow__p11_session_ref(s);
    e = avow_signer_new(&p11_ops, ps, pub, alg, out);
    EVP_PKEY_free(pub); /* the signer took its own reference */
    if (e != AVOW_OK) {
        p11_signer_free(ps);
        return avow__fail(diag, e, NULL, "avow_signer_new failed");
    }
    return AVOW_OK;
}
