#!/bin/sh
# policies/tpm-psa.json over one request that carries a TPM key attestation
# (made on swtpm) and a PSA platform token (psa_tool, signed by the RFC 9783
# example IAK): tpm:* rules judge the bound TPM statement, psa:* rules the
# PSA statement beside it. Affirming as made; contraindicated with a PSA
# lifecycle that is not secured, and with a key that is not fixedTPM, each
# naming its rule. Skipped (77) only without TPM support.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
. "$TESTS_DIR/cli/lib/swtpm.sh"
: "${AVOW_PSA_TOOL:?AVOW_PSA_TOOL must name psa_tool}"

POLICY=$TESTS_DIR/../policies/tpm-psa.json
IAK=$VECTORS/psa/rfc9783-draft24-tfm-es-iak.pem
openssl pkey -in "$IAK" -pubout -out "$T/iak.pub" 2>/dev/null
start_swtpm
make_ca
expect_rc 0 "$AVOW" tpm keygen -tpm "$TCTI" -key "$T/dev"
expect_rc 0 "$AVOW" tpm keygen -tpm "$TCTI" -key "$T/dup" -duplicable
expect_rc 0 "$AVOW" tpm keygen -tpm "$TCTI" -key "$T/ak" -ak -pubout "$T/ak.pem"
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=2.23.133.8.3\n' >"$T/ak.ext"
openssl x509 -new -force_pubkey "$T/ak.pem" -subj "/CN=TPM AK" -CA "$T/int.pem" -CAkey "$T/int.key" \
    -days 30 -extfile "$T/ak.ext" -out "$T/akcert.pem" 2>/dev/null
cat "$T/int.pem" >>"$T/akcert.pem"
N=5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a

# req KEY LIFECYCLE OUT: the TPM statement and a PSA token, both over N
req() {
    "$AVOW_PSA_TOOL" "$IAK" "$N" "$2" "$T/psa.cbor" || fail "psa_tool"
    expect_rc 0 "$AVOW" csr create -tpm "$TCTI" -key "$1" -tpm-ak "$T/ak" -nonce "$N" \
        -chain "$T/akcert.pem" -psa "$T/psa.cbor" -subject "CN=tpm psa device" -out "$3"
}
verify() {
    expect_rc "$1" "$AVOW" csr verify -in "$2" -CAfile "$T/root.pem" -iak "$T/iak.pub" -nonce "$N" \
        -policy "$POLICY" -json
}
# rule ID OUTCOME: the policy report gives rule ID that outcome
rule() {
    jq -e --arg id "$1" --arg o "$2" '.policy.rules[] | select(.id == $id) | .outcome == $o' \
        "$T/out" >/dev/null || { jq .policy "$T/out" >&2; fail "rule $1 is not $2"; }
}

req "$T/dev" 0x3000 "$T/good.pem"
verify 0 "$T/good.pem"
jq -e '.ear.ear_status == "affirming"' "$T/out" >/dev/null || { cat "$T/out" >&2; fail "not affirming"; }
for r in tpm-fixed-tpm tpm-fixed-parent tpm-generated tpm-signing-key tpm-nonce psa-secured \
    psa-implementation psa-bootloader psa-nonce; do
    rule "$r" pass
done

# the PSA platform is not secured (0x2000: PSA RoT provisioning)
req "$T/dev" 0x2000 "$T/life.pem"
verify 1 "$T/life.pem"
rule psa-secured fail
rule tpm-fixed-tpm pass
grep -q '"code": "AVOW_ERR_POLICY"' "$T/out" || fail "lifecycle: no AVOW_ERR_POLICY"
jq -r '.policy.rules[] | select(.id == "psa-secured") | .detail' "$T/out" | grep -q 'want "secured"' ||
    fail "lifecycle: the detail"

# the TPM key can be duplicated
req "$T/dup" 0x3000 "$T/dup.pem"
verify 1 "$T/dup.pem"
rule tpm-fixed-tpm fail
rule psa-secured pass
grep -q '"code": "AVOW_ERR_POLICY"' "$T/out" || fail "dup: no AVOW_ERR_POLICY"

# without the PSA token the platform rules cannot pass
expect_rc 0 "$AVOW" csr create -tpm "$TCTI" -key "$T/dev" -tpm-ak "$T/ak" -nonce "$N" \
    -chain "$T/akcert.pem" -subject "CN=tpm only" -out "$T/tpm-only.pem"
verify 1 "$T/tpm-only.pem"
rule psa-secured fail
echo ok
