#!/bin/sh
# avow wimse with the workload key in a real swtpm: avow tpm keygen, an AK
# certified by a test CA, avow csr create -tpm -tpm-ak -nonce (TPM2_Certify
# over the nonce) -> avow wimse issue (a WIT whose cnf.jwk is the TPM key,
# the identifier taken from the TPM statement's claims) -> avow wimse proof
# -tpm (the WPT signed by TPM2_Sign) -> avow wimse verify. Refused, each by
# its code: a WPT by another TPM key, by a software key, a WIT for a
# duplicable TPM key (never issued). Skipped (77) only without TPM support.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
. "$TESTS_DIR/cli/lib/swtpm.sh"

RP=https://rp.example.com/api
ISS=https://id.example.com

start_swtpm
make_ca
keygen "$T/issuer.key" ec256
keygen "$T/soft.key" ec256
openssl pkey -in "$T/issuer.key" -pubout -out "$T/issuer.pub" 2>/dev/null

expect_rc 0 "$AVOW" wimse proof --help
for o in -tpm -key; do
    grep -q -- "^  $o" "$T/out" || fail "wimse proof --help lacks $o"
done

expect_rc 0 "$AVOW" tpm keygen -tpm "$TCTI" -key "$T/wl" -pubout "$T/wl.pem"
expect_rc 0 "$AVOW" tpm keygen -tpm "$TCTI" -key "$T/other" -pubout "$T/other.pem"
expect_rc 0 "$AVOW" tpm keygen -tpm "$TCTI" -key "$T/ak" -ak -pubout "$T/ak.pem"
expect_rc 0 "$AVOW" tpm keygen -tpm "$TCTI" -key "$T/dup" -duplicable
printf 'keyUsage=critical,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\nextendedKeyUsage=2.23.133.8.3\n' >"$T/ak.ext"
openssl x509 -new -force_pubkey "$T/ak.pem" -subj "/O=avow test/CN=TPM AK" -CA "$T/int.pem" \
    -CAkey "$T/int.key" -days 365 -extfile "$T/ak.ext" -out "$T/akcert.pem" 2>"$T/err" ||
    { cat "$T/err"; fail "AK certificate"; }
cat "$T/int.pem" >>"$T/akcert.pem"

# The identifier names the TPM object: its name, from the certified TPMT_PUBLIC.
cat >"$T/idmap.json" <<'JSON'
{"identifiers": [
   {"when": {"tpm:fixed-tpm": "1"}, "uri": "spiffe://example.org/tpm/{tpm:tpm-name}"}],
 "trust_domains": ["example.org"]}
JSON
N=$(openssl rand -hex 32)
tpm_csr() { # KEY OUT
    expect_rc 0 "$AVOW" csr create -tpm "$TCTI" -key "$1" -tpm-ak "$T/ak" -nonce "$N" \
        -chain "$T/akcert.pem" -subject "CN=tpm workload" -out "$2"
}
issue() {
    "$AVOW" wimse issue -idmap "$T/idmap.json" -CAfile "$T/root.pem" -nonce "$N" -iss "$ISS" \
        -key "$T/issuer.key" "$@"
}

# --- the WIT: through appraisal of the TPM key attestation ---
tpm_csr "$T/wl" "$T/req.pem"
expect_rc 0 issue -in "$T/req.pem" -out "$T/wit.jwt"
expect_rc 0 "$AVOW" wimse show -in "$T/wit.jwt"
sed -n 's/^claims: //p' "$T/out" >"$T/claims.json"
ID=$(jq -r .sub "$T/claims.json")
case $ID in
spiffe://example.org/tpm/000b[0-9a-f]*) ;;
*) fail "the identifier is not the TPM object's name: $ID" ;;
esac
# cnf.jwk is the TPM key: its x and y are the key's public point
jq -c '.cnf.jwk' "$T/claims.json" >"$T/cnf.jwk"
jq -e '.kty == "EC" and .crv == "P-256" and .alg == "ES256" and (has("d") | not)' "$T/cnf.jwk" \
    >/dev/null || fail "cnf.jwk: $(cat "$T/cnf.jwk")"
x=$(openssl pkey -pubin -in "$T/wl.pem" -outform DER | tail -c 64 | head -c 32 | basenc --base64url | tr -d '=\n')
y=$(openssl pkey -pubin -in "$T/wl.pem" -outform DER | tail -c 32 | basenc --base64url | tr -d '=\n')
jq -e --arg x "$x" --arg y "$y" '.x == $x and .y == $y' "$T/cnf.jwk" >/dev/null ||
    fail "cnf.jwk is not the TPM key: $(cat "$T/cnf.jwk")"

# --- the WPT: signed in the TPM; the relying party accepts it ---
expect_rc 0 "$AVOW" wimse proof -tpm "$TCTI" -key "$T/wl" -wit "$T/wit.jwt" -aud "$RP" \
    -out "$T/wpt.jwt"
expect_rc 0 "$AVOW" wimse show -in "$T/wpt.jwt"
grep -q '"alg":"ES256"' "$T/out" || fail "WPT alg: $(cat "$T/out")"
verify() {
    "$AVOW" wimse verify -issuer-key "$T/issuer.pub" -issuer "$ISS" -trust-domain example.org "$@"
}
expect_rc 0 verify -wit "$T/wit.jwt" -wpt "$T/wpt.jwt" -aud "$RP" -json
jq -e --arg id "$ID" '.authenticated == true and .identifier == $id' "$T/out" >/dev/null ||
    fail "verify -json: $(cat "$T/out")"
# a second proof from the TPM is another jti: both pass one replay set
expect_rc 0 "$AVOW" wimse proof -tpm "$TCTI" -key "$T/wl" -wit "$T/wit.jwt" -aud "$RP" \
    -out "$T/wpt2.jwt"
expect_rc 0 verify -wit "$T/wit.jwt" -wpt "$T/wpt.jwt" -aud "$RP" -replay-db "$T/replay.db"
expect_rc 0 verify -wit "$T/wit.jwt" -wpt "$T/wpt2.jwt" -aud "$RP" -replay-db "$T/replay.db"

# --- refusals, each by its code ---
expect_rc 0 "$AVOW" wimse proof -tpm "$TCTI" -key "$T/other" -wit "$T/wit.jwt" -aud "$RP" \
    -out "$T/wpt-other.jwt"
expect_rc 1 verify -wit "$T/wit.jwt" -wpt "$T/wpt-other.jwt" -aud "$RP"
grep -q 'refused (wpt.signature: AVOW_ERR_WIMSE_WPT_SIG' "$T/err" ||
    fail "WPT by another TPM key: $(cat "$T/err")"
expect_rc 0 "$AVOW" wimse proof -key "$T/soft.key" -wit "$T/wit.jwt" -aud "$RP" -out "$T/wpt-soft.jwt"
expect_rc 1 verify -wit "$T/wit.jwt" -wpt "$T/wpt-soft.jwt" -aud "$RP"
grep -q 'refused (wpt.signature: AVOW_ERR_WIMSE_WPT_SIG' "$T/err" ||
    fail "WPT by a software key: $(cat "$T/err")"
# a duplicable TPM key gets no WIT: the default policy's key rule refuses it
tpm_csr "$T/dup" "$T/req-dup.pem"
expect_rc 1 issue -in "$T/req-dup.pem" -out "$T/wit-dup.jwt" -json
grep -q 'AVOW_ERR_NOT_AFFIRMING' "$T/err" || fail "duplicable key: $(cat "$T/err")"
[ ! -s "$T/wit-dup.jwt" ] || fail "a WIT was written for a duplicable key"

# --- usage ---
expect_rc 2 "$AVOW" wimse proof -tpm "$TCTI" -key "$T/wl" -wit "$T/wit.jwt" -aud "$RP" -pin 1234
expect_rc 4 "$AVOW" wimse proof -tpm "$TCTI" -key "$T/nosuch" -wit "$T/wit.jwt" -aud "$RP"
grep -q 'nosuch.pub: cannot open' "$T/err" || fail "no key files: $(cat "$T/err")"
echo ok
