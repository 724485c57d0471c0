/*
 * Inside the library only: the structs behind the opaque handles of
 * avow/pkcs11.h and small PKCS#11 call helpers, shared by the back end
 * (src/backend/pkcs11/) and the claim source that reads tokens
 * (src/attester/pkcs11_claims.c).
 */
#ifndef AVOW_PKCS11_INT_H
#define AVOW_PKCS11_INT_H

#include <stdatomic.h>

#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

#include <avow/pkcs11.h>

#include "core/internal.h"

struct avow_p11_module {
    CK_FUNCTION_LIST *fl;
    atomic_int refs;
};

struct avow_p11_session {
    avow_p11_module *mod;
    CK_FUNCTION_LIST *fl; /* mod->fl, for brevity at call sites */
    CK_SLOT_ID slot;
    CK_SESSION_HANDLE h;
    CK_TOKEN_INFO token; /* as seen at open, to check object URIs against */
    /* Kept only for keys with CKA_ALWAYS_AUTHENTICATE, which need the PIN
     * again at every C_SignInit; cleansed when the session goes. */
    avow_buf pin;
    int logged_in;
    atomic_int refs;
};

/*
 * h as a CK_OBJECT_HANDLE, or 0 (never a valid handle) when h is 0 or does
 * not fit the platform's CK_ULONG: a truncated handle could name another
 * object.
 */
static inline CK_OBJECT_HANDLE avow__p11_h(avow_p11_handle h)
{
    CK_OBJECT_HANDLE o = (CK_OBJECT_HANDLE)h;
    return (avow_p11_handle)o == h ? o : 0;
}

/* Takes one more reference on s (for a signer). */
void avow__p11_session_ref(avow_p11_session *s);

/*
 * Records a PKCS#11 failure: code (usually AVOW_ERR_PKCS11), rv in
 * d->backend, and "fn: <p11-kit's text> (CKR 0x..)" plus an optional context.
 */
avow_err avow__p11_fail(avow_diag *d, avow_err code, CK_RV rv, const char *fn, const char *ctx);

/*
 * Reads one attribute. *present is 0 when the object has no such attribute
 * or will not reveal it (sensitive); then out stays empty. A present empty
 * value gives *present 1 and out->len 0. Caller frees out.
 */
avow_err avow__p11_attr(avow_p11_session *s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t, avow_buf *out,
                        int *present, avow_diag *d);

/* A CK_BBOOL attribute as 0/1, or -1 when absent. */
avow_err avow__p11_bool(avow_p11_session *s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t, int *val,
                        avow_diag *d);

/* A CK_ULONG attribute; *present as in avow__p11_attr. */
avow_err avow__p11_ulong(avow_p11_session *s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t,
                         CK_ULONG *val, int *present, avow_diag *d);

/*
 * Objects matching tmpl: up to max handles in out, *count the number found
 * (it may reach max + 1 to tell "more than max").
 */
avow_err avow__p11_find(avow_p11_session *s, CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *out,
                        CK_ULONG max, CK_ULONG *count, avow_diag *d);

/*
 * The public key object paired with o (same CKA_ID, or same CKA_LABEL when
 * o has no id); *pub 0 when there is none or it is ambiguous. o itself when
 * o is a public key.
 */
avow_err avow__p11_partner(avow_p11_session *s, CK_OBJECT_HANDLE o, CK_OBJECT_HANDLE *pub,
                           avow_diag *d);

#endif
