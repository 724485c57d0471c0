#include <stdlib.h>

#include <cbor.h>

#include <avow/cose.h>
#include <avow/psa.h>

#include "psa_make.h"

static cbor_item_t *uint_item(uint64_t v)
{
    return v <= 0xff     ? cbor_build_uint8((uint8_t)v)
           : v <= 0xffff ? cbor_build_uint16((uint16_t)v)
                         : cbor_build_uint32((uint32_t)v);
}

static void put(cbor_item_t *m, uint64_t k, cbor_item_t *v)
{
    cbor_map_add(m, (struct cbor_pair){cbor_move(uint_item(k)), cbor_move(v)});
}

/* The measurement and implementation id are 32-byte texts a policy can name. */
static cbor_item_t *text32(const char *s)
{
    return cbor_build_bytestring((const unsigned char *)s, 32);
}

avow_err tu_psa_token(EVP_PKEY *iak, const tu_psa_claims *c, avow_buf *out, avow_diag *d)
{
    uint8_t derived[AVOW_PSA_INSTANCE_ID_LEN];
    const uint8_t *ueid = c->ueid;
    size_t ueid_len = c->ueid_len;
    if (ueid == NULL) {
        avow_err rc = avow_psa_instance_id_of_key(iak, derived);
        if (rc != AVOW_OK)
            return rc;
        ueid = derived;
        ueid_len = sizeof(derived);
    }
    cbor_item_t *comp = cbor_new_definite_map(3);
    put(comp, 1, cbor_build_string("BL"));
    put(comp, 2, text32("bl2-measurement-sha256-000000001"));
    put(comp, 5, text32("bl2-signer-id-sha256-00000000001"));
    cbor_item_t *sw = cbor_new_definite_array(1);
    cbor_array_push(sw, cbor_move(comp));
    cbor_item_t *m = cbor_new_definite_map(7);
    put(m, 10, cbor_build_bytestring(c->nonce, c->nonce_len));
    put(m, 256, cbor_build_bytestring(ueid, ueid_len));
    put(m, 265, cbor_build_string("tag:psacertified.org,2023:psa#tfm"));
    put(m, 2394, uint_item(1));
    put(m, 2395, uint_item(c->lifecycle));
    put(m, 2396, text32("acme-psa-rot-implementation-0001"));
    put(m, 2399, sw);
    unsigned char *payload = NULL;
    size_t cap = 0, len = cbor_serialize_alloc(m, &payload, &cap);
    cbor_decref(&m);
    avow_signer *s = NULL;
    avow_err rc =
        len == 0 ? AVOW_ERR_NOMEM : avow_signer_new_pkey(iak, AVOW_SIGALG_ECDSA_SHA256, &s, d);
    if (rc == AVOW_OK)
        rc = avow_cose_sign1(payload, len, s, AVOW_COSE_TAGGED, out, d);
    avow_signer_free(s);
    free(payload);
    return rc;
}
