/*
 * psa_tool: a PSA attestation token (RFC 9783, 2023 profile) for the shell
 * tests, signed ES256 by a given IAK:
 *
 *   psa_tool IAK.pem NONCE_HEX LIFECYCLE OUT
 *
 * The instance id is the one derived from the IAK; the implementation id,
 * the one software component's measurement and signer id are fixed
 * printable 32-byte strings, so that a policy can name them as JSON strings
 * (tests/cli/tpm_psa_policy.sh, policies/tpm-psa.json). Public API and
 * libcbor only. Exit 0 on success, 1 on failure, 2 on usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <openssl/pem.h>

#include <avow/avow.h>
#include <avow/cose.h>
#include <avow/psa.h>

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

static cbor_item_t *text32(const char *s)
{
    return cbor_build_bytestring((const unsigned char *)s, 32);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: psa_tool IAK.pem NONCE_HEX LIFECYCLE OUT\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    EVP_PKEY *iak = f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f != NULL)
        fclose(f);
    uint8_t nonce[64], ueid[AVOW_PSA_INSTANCE_ID_LEN];
    size_t nl = strlen(argv[2]) / 2;
    if (iak == NULL || nl < 32 || nl > 64 || strlen(argv[2]) % 2 != 0 ||
        avow_psa_instance_id_of_key(iak, ueid) != AVOW_OK) {
        fprintf(stderr, "psa_tool: bad IAK or nonce\n");
        return 2;
    }
    for (size_t i = 0; i < nl; i++) {
        unsigned v;
        if (sscanf(argv[2] + 2 * i, "%2x", &v) != 1)
            return 2;
        nonce[i] = (uint8_t)v;
    }
    unsigned long life = strtoul(argv[3], NULL, 0);

    cbor_item_t *comp = cbor_new_definite_map(3);
    put(comp, 1, cbor_build_string("BL"));
    put(comp, 2, text32("bl2-measurement-sha256-000000001"));
    put(comp, 5, text32("bl2-signer-id-sha256-00000000001"));
    cbor_item_t *sw = cbor_new_definite_array(1);
    cbor_array_push(sw, cbor_move(comp));
    cbor_item_t *m = cbor_new_definite_map(7);
    put(m, 10, cbor_build_bytestring(nonce, nl));
    put(m, 256, cbor_build_bytestring(ueid, sizeof(ueid)));
    put(m, 265, cbor_build_string("tag:psacertified.org,2023:psa#tfm"));
    put(m, 2394, uint_item(1));
    put(m, 2395, uint_item(life));
    put(m, 2396, text32("acme-psa-rot-implementation-0001"));
    put(m, 2399, sw);
    unsigned char *payload = NULL;
    size_t cap = 0, len = cbor_serialize_alloc(m, &payload, &cap);
    cbor_decref(&m);

    avow_signer *s = NULL;
    avow_buf tok = {0};
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc =
        len == 0 ? AVOW_ERR_NOMEM : avow_signer_new_pkey(iak, AVOW_SIGALG_ECDSA_SHA256, &s, &d);
    if (rc == AVOW_OK)
        rc = avow_cose_sign1(payload, len, s, AVOW_COSE_TAGGED, &tok, &d);
    if (rc == AVOW_OK)
        rc = avow_write_file(argv[4], tok.ptr, tok.len, &d);
    if (rc != AVOW_OK)
        fprintf(stderr, "psa_tool: %s (%s) %s\n", avow_strerror(rc), avow_errname(rc), d.detail);
    avow_buf_free(&tok);
    avow_signer_free(s);
    free(payload);
    EVP_PKEY_free(iak);
    return rc == AVOW_OK ? 0 : 1;
}
