#!/bin/sh
# avow csr verify on requests that must not be affirmed: each gives a non-zero
# exit and its own AVOW_ERR_* code among the EAR's avow_reasons.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

NONCE=00112233445566778899aabbccddeeff

# evidence_for KEY OUT NONCE [EXTRACTABLE [HWMODEL [AK]]]
evidence_for() {
    spki=$(openssl pkey -in "$1" -pubout -outform DER | od -An -v -tx1 | tr -d ' \n')
    printf '{"keys":[{"identifier":"csr-key","spki":{"hex":"%s"},"extractable":%s,"sensitive":true,"never-extractable":true,"local":true}]}\n' \
        "$spki" "${4:-false}" >"$T/claims.json"
    ak=${6:-ak}
    "$AVOW" evidence create -claims "$T/claims.json" -nonce "$3" -vendor Acme \
        -hwmodel "${5:-HSM-9000}" -signkey "$T/$ak.key" -signcert "$T/$ak.pem" -out "$2" ||
        fail "evidence create"
}

# request NAME EVIDENCE [KEY]: $T/NAME.csr for KEY (default csr.key) carrying EVIDENCE.
request() {
    "$AVOW" csr create -key "$T/${3:-csr}.key" -subject "CN=$1" -evidence "$2" -chain "$T/int.pem" \
        -out "$T/$1.csr" || fail "csr create $1"
}

# has_reason CODE: the EAR printed last ($T/out) names CODE in an avow_reasons entry.
has_reason() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c '
import json, sys
ear = json.load(open(sys.argv[1]))
codes = [r["code"] for s in ear["submods"].values() for r in s.get("avow_reasons", [])]
sys.exit(0 if sys.argv[2] in codes else 1)
' "$T/out" "$1" || { cat "$T/out" >&2; fail "no reason $1 in the EAR"; }
    else
        grep -q "\"code\": \"$1\"" "$T/out" || { cat "$T/out" >&2; fail "no reason $1 in the EAR"; }
    fi
}

# refused WANT_RC CODE ARGS...: verify exits WANT_RC, the EAR is not affirming and names CODE.
refused() {
    want=$1
    code=$2
    shift 2
    expect_rc "$want" "$AVOW" csr verify "$@"
    grep -q '"ear_status": "affirming"' "$T/out" && fail "top-level affirming for $code"
    has_reason "$code"
    grep -q "$code" "$T/err" || fail "verdict line does not name $code"
}

make_ca
make_ak ak ec256
keygen "$T/csr.key" ec256
keygen "$T/other.key" ec256

# baseline: affirming
evidence_for "$T/csr.key" "$T/good.ev" "$NONCE"
request good "$T/good.ev"
expect_rc 0 "$AVOW" csr verify -in "$T/good.csr" -CAfile "$T/root.pem" -nonce "$NONCE"

# 1. the Evidence attests another key than the request's: key binding
evidence_for "$T/other.key" "$T/otherkey.ev" "$NONCE"
request binding "$T/otherkey.ev"
refused 1 AVOW_ERR_KEY_BINDING -in "$T/binding.csr" -CAfile "$T/root.pem" -nonce "$NONCE"

# 2. a nonce accepted once: the second appraisal with the same store is a replay
db="$T/nonces.db"
expect_rc 0 "$AVOW" csr nonce -nonce-db "$db"
issued=$(cat "$T/out")
[ "${#issued}" -eq 64 ] || fail "nonce length"
evidence_for "$T/csr.key" "$T/fresh.ev" "$issued"
request fresh "$T/fresh.ev"
expect_rc 0 "$AVOW" csr verify -in "$T/fresh.csr" -CAfile "$T/root.pem" -nonce "$issued" -nonce-db "$db"
refused 1 AVOW_ERR_NONCE_REPLAY -in "$T/fresh.csr" -CAfile "$T/root.pem" -nonce "$issued" -nonce-db "$db"
# and without -nonce, the bound statement's nonce is the one looked up
refused 1 AVOW_ERR_NONCE_REPLAY -in "$T/fresh.csr" -CAfile "$T/root.pem" -nonce-db "$db"
# a nonce the store never issued
refused 1 AVOW_ERR_NONCE_UNKNOWN -in "$T/good.csr" -CAfile "$T/root.pem" -nonce "$NONCE" -nonce-db "$db"

# 3. policy: an extractable key (default policy)
evidence_for "$T/csr.key" "$T/extract.ev" "$NONCE" true
request extract "$T/extract.ev"
refused 1 AVOW_ERR_POLICY -in "$T/extract.csr" -CAfile "$T/root.pem" -nonce "$NONCE"
grep -q '"rule": "key-not-extractable"' "$T/out" || fail "extractable rule not named"

# 4. policy: a hardware model not in the list
cat >"$T/models.json" <<J
{"name": "hsm-models", "rules": [
  {"id": "model", "claim": "hwmodel", "in": ["HSM-9000", "HSM-9100"], "required": true},
  {"id": "key-not-extractable", "element": "key", "claim": "extractable", "equals": false, "required": true}
]}
J
expect_rc 0 "$AVOW" csr verify -in "$T/good.csr" -CAfile "$T/root.pem" -nonce "$NONCE" -policy "$T/models.json"
evidence_for "$T/csr.key" "$T/model.ev" "$NONCE" false HSM-1000
request model "$T/model.ev"
refused 1 AVOW_ERR_POLICY -in "$T/model.csr" -CAfile "$T/root.pem" -nonce "$NONCE" -policy "$T/models.json"
grep -q '"rule": "model"' "$T/out" || fail "model rule not named"
grep -q 'HSM-1000' "$T/out" || fail "model value not in the detail"
# the same rule with on_fail warning: exit 5
sed 's/"required": true}/"required": true, "on_fail": "warning"}/' "$T/models.json" >"$T/warn.json"
expect_rc 5 "$AVOW" csr verify -in "$T/model.csr" -CAfile "$T/root.pem" -nonce "$NONCE" -policy "$T/warn.json"
grep -q '"ear_status": "warning"' "$T/out" || fail "warning tier"
# a policy that names no claim: refused once, its JSON path said once
printf '{"name":"p","rules":[{"id":"a","claim":"1.2.03","present":true}]}' >"$T/badoid.json"
expect_rc 3 "$AVOW" csr verify -in "$T/good.csr" -CAfile "$T/root.pem" -policy "$T/badoid.json"
grep -qx 'avow: rules\[0\].claim: unknown claim "1.2.03" (AVOW_ERR_BAD_POLICY)' "$T/err" ||
    { cat "$T/err" >&2; fail "bad policy message"; }

# 5. Evidence signed by an AK that does not chain to the anchor
keygen "$T/evil-root.key" ec256
openssl req -x509 -new -key "$T/evil-root.key" -subj "/CN=Evil Root" -days 30 -out "$T/evil-root.pem" 2>/dev/null
keygen "$T/evil.key" ec256
openssl req -new -key "$T/evil.key" -subj "/CN=Evil AK" -out "$T/evil.req" 2>/dev/null
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' "$AK_EKU" >"$T/evil.ext"
openssl x509 -req -in "$T/evil.req" -CA "$T/evil-root.pem" -CAkey "$T/evil-root.key" -CAcreateserial \
    -days 30 -extfile "$T/evil.ext" -out "$T/evil.pem" 2>/dev/null
evidence_for "$T/csr.key" "$T/evil.ev" "$NONCE" false HSM-9000 evil
request untrusted "$T/evil.ev"
expect_rc 1 "$AVOW" csr verify -in "$T/untrusted.csr" -CAfile "$T/root.pem" -nonce "$NONCE"
if ! grep -q '"code": "AVOW_ERR_CHAIN"' "$T/out" && ! grep -q '"code": "AVOW_ERR_UNTRUSTED"' "$T/out"; then
    cat "$T/out" >&2
    fail "untrusted AK: neither AVOW_ERR_CHAIN nor AVOW_ERR_UNTRUSTED"
fi
# the good request against an anchor that did not issue its AK
refused 1 AVOW_ERR_CHAIN -in "$T/good.csr" -CAfile "$T/evil-root.pem" -nonce "$NONCE"

# an AK certificate with CA:TRUE: refused by default, accepted with -allow-ak-ca
keygen "$T/caak.key" ec256
openssl req -new -key "$T/caak.key" -subj "/CN=CA AK" -out "$T/caak.req" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,keyCertSign\nextendedKeyUsage=%s\n' \
    "$AK_EKU" >"$T/caak.ext"
openssl x509 -req -in "$T/caak.req" -CA "$T/int.pem" -CAkey "$T/int.key" -CAcreateserial \
    -days 30 -extfile "$T/caak.ext" -out "$T/caak.pem" 2>/dev/null
evidence_for "$T/csr.key" "$T/caak.ev" "$NONCE" false HSM-9000 caak
request caak "$T/caak.ev"
refused 1 AVOW_ERR_AK_CA -in "$T/caak.csr" -CAfile "$T/root.pem" -nonce "$NONCE"
expect_rc 0 "$AVOW" csr verify -in "$T/caak.csr" -CAfile "$T/root.pem" -nonce "$NONCE" -allow-ak-ca

# 6. the request's own signature broken (last byte of the ECDSA s value)
"$AVOW" csr create -key "$T/csr.key" -subject "CN=pop" -evidence "$T/good.ev" -chain "$T/int.pem" \
    -outform DER -out "$T/pop.der"
size=$(wc -c <"$T/pop.der")
last=$(od -An -tu1 -j $((size - 1)) -N 1 "$T/pop.der" | tr -d ' ')
printf "$(printf '\\%03o' $(((last + 1) % 256)))" |
    dd of="$T/pop.der" bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
openssl req -inform DER -in "$T/pop.der" -noout -verify 2>&1 | grep -q "verify failure" ||
    fail "openssl still verifies the tampered request"
expect_rc 0 "$AVOW" csr show -in "$T/pop.der"
grep -q "self-signature verify failure" "$T/out" || fail "show does not report the POP failure"
refused 1 AVOW_ERR_POP -in "$T/pop.der" -CAfile "$T/root.pem" -nonce "$NONCE"

# 7. DER that is no request: said so (exit 3)
openssl x509 -in "$T/root.pem" -outform DER -out "$T/root.der"
expect_rc 3 "$AVOW" csr show -in "$T/root.der"
grep -q '^avow: request: neither a PKCS#10 CertificationRequest nor a CRMF CertReqMsg' "$T/err" ||
    { cat "$T/err" >&2; fail "certificate given as request"; }

# 8. a wrong expected nonce
refused 1 AVOW_ERR_NONCE_MISMATCH -in "$T/good.csr" -CAfile "$T/root.pem" -nonce 0011223344556677
echo ok
