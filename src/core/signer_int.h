/*
 * What the library may know of a signer beyond its interface.
 */
#ifndef AVOW_SIGNER_INT_H
#define AVOW_SIGNER_INT_H

#include <openssl/evp.h>

#include <avow/signer.h>

/*
 * The private key of a software signer (borrowed), NULL for any other back
 * end. For the few OpenSSL interfaces that sign by themselves and take only
 * an EVP_PKEY (the CMP server's message protection); everything avow signs
 * goes through avow_signer_sign.
 */
EVP_PKEY *avow__signer_get0_private(const avow_signer *s);

#endif
