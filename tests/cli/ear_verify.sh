#!/bin/sh
# avow ear verify / ear show: Veraison's EAR test data (tests/vectors/veraison-ear,
# typ JWT, profile tag:github.com,2023:veraison/ear, dotted claim names) with
# the JWK and as PEM, directly and inside JSON and CBOR CMWs; EAR JWTs signed
# by npm jose with each accepted spelling of typ (eat+jwt, eat-jwt, JWT,
# absent) verify with a JWK set and with a PEM key; a wrong key, alg none,
# HS256, an expired EAR and another token's typ are refused. The npm part
# skips itself without node/npm or the registry; the rest always runs.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

V="$VECTORS/veraison-ear"

# base64url (no padding) -> hex, in shell tools only
b64u_hex() {
    s=$(printf '%s' "$1" | tr '_-' '/+')
    case $((${#s} % 4)) in 2) s="$s==" ;; 3) s="$s=" ;; esac
    printf '%s' "$s" | base64 -d | od -An -v -tx1 | tr -d ' \n'
}
hex_bin() { printf '%s' "$1" | sed 's/../\\x&/g' | xargs -0 printf; }

# --- Veraison's key as a JWK set and as a SubjectPublicKeyInfo PEM ---
jq -c '{keys: [. + {kid: "veraison"}]}' "$V/pkey.json" >"$T/v.jwks"
x=$(b64u_hex "$(jq -r .x "$V/pkey.json")")
y=$(b64u_hex "$(jq -r .y "$V/pkey.json")")
hex_bin "3059301306072a8648ce3d020106082a8648ce3d03010703420004$x$y" >"$T/v.der"
openssl pkey -pubin -inform DER -in "$T/v.der" -out "$T/v.pem"

for t in test-jwt test-jwt-jwk-header verify-pass-extensions; do
    expect_rc 0 "$AVOW" ear verify -in "$V/$t.jwt" -jwks "$T/v.jwks"
    grep -q '^EAR: VERIFIED (signature ES256, typ "JWT")$' "$T/out" || { cat "$T/out"; fail "$t: not verified"; }
    grep -q '^profile: "tag:github.com,2023:veraison/ear"$' "$T/out" || fail "$t: profile"
    grep -q '^submod "test": affirming$' "$T/out" || fail "$t: submod status"
    expect_rc 0 "$AVOW" ear verify -in "$V/$t.jwt" -key-pub "$T/v.pem"
    expect_rc 0 "$AVOW" ear verify -key-pub "$T/v.pem" <"$V/$t.jwt"
done
expect_rc 0 "$AVOW" ear verify -in "$V/test-jwt.jwt" -jwks "$T/v.jwks" -json
jq -e '.verified == true and .alg == "ES256" and .status == "affirming" and
    .ear["ear.verifier-id"].developer == "Acme Inc." and
    .ear.submods.test["ear.trustworthiness-vector"].executables == 3' "$T/out" >/dev/null ||
    { cat "$T/out"; fail "ear verify -json"; }
grep -q "attested key: 6 bytes" "$T/out" && fail "json output has text"
expect_rc 0 "$AVOW" ear verify -in "$V/verify-pass-extensions.jwt" -jwks "$T/v.jwks"
grep -q "attested key: 6 bytes (akpub)" "$T/out" || fail "ear.veraison.key-attestation not read"

# Veraison's own negative vectors
expect_rc 1 "$AVOW" ear verify -in "$V/verify-fail-hs256.jwt" -jwks "$T/v.jwks"
grep -q "AVOW_ERR_SIG_ALG" "$T/err" || fail "HS256 not refused as an algorithm"
expect_rc 1 "$AVOW" ear verify -in "$V/verify-fail-alg-none.jwt" -key-pub "$T/v.pem"
grep -q 'alg "none" is refused' "$T/err" || fail "alg none not refused"
# someone else's key
keygen "$T/other.key" ec256
openssl pkey -in "$T/other.key" -pubout -out "$T/other.pem" 2>/dev/null
expect_rc 1 "$AVOW" ear verify -in "$V/test-jwt.jwt" -key-pub "$T/other.pem"
grep -q "AVOW_ERR_SIG_INVALID" "$T/err" || fail "wrong key not refused"
# a kid the set does not have, and usage errors
jq -c '.keys[0].kid = "x"' "$T/v.jwks" >"$T/x.jwks"
expect_rc 0 "$AVOW" ear verify -in "$V/test-jwt.jwt" -jwks "$T/x.jwks"
expect_rc 2 "$AVOW" ear verify -in "$V/test-jwt.jwt"
expect_rc 2 "$AVOW" ear verify -in "$V/test-jwt.jwt" -jwks "$T/v.jwks" -key-pub "$T/v.pem"
expect_rc 2 "$AVOW" ear verify -in "$V/test-jwt.jwt" -jwks "$T/v.jwks" -leeway x
# a JWK set with a private member or a symmetric key is refused whole
jq -c '.keys[0].d = "AA"' "$T/v.jwks" >"$T/priv.jwks"
expect_rc 3 "$AVOW" ear verify -in "$V/test-jwt.jwt" -jwks "$T/priv.jwks"
grep -q "jwks.keys\[0\].d" "$T/err" || fail "private member not named"
jq -c '.keys += [{kty: "oct", kid: "s", k: "c2VjcmV0"}]' "$T/v.jwks" >"$T/oct.jwks"
expect_rc 3 "$AVOW" ear verify -in "$V/test-jwt.jwt" -jwks "$T/oct.jwks"
grep -q "AVOW_ERR_JWKS" "$T/err" || fail "symmetric key in the set not refused"

# --- the same JWT inside CMWs (JSON and CBOR records) ---
jwt=$(cat "$V/test-jwt.jwt")
b64=$(printf '%s' "$jwt" | base64 -w0 | tr '+/' '-_' | tr -d '=')
printf '["application/eat+jwt; eat_profile=\\"tag:github.com,2023:veraison/ear\\"","%s",8]\n' "$b64" >"$T/cmw.json"
expect_rc 0 "$AVOW" ear verify -in "$T/cmw.json" -jwks "$T/v.jwks"
grep -q "^EAR: VERIFIED" "$T/out" || fail "JSON CMW"
n=$(printf '%s' "$jwt" | wc -c)
{
    hex_bin "8273"
    printf 'application/eat+jwt'
    hex_bin "59$(printf '%04x' "$n")"
    printf '%s' "$jwt"
} >"$T/cmw.cbor"
expect_rc 0 "$AVOW" ear verify -in "$T/cmw.cbor" -key-pub "$T/v.pem"
expect_rc 0 "$AVOW" ear verify -in "$T/cmw.cbor" -key-pub "$T/v.pem" -inform cbor
expect_rc 3 "$AVOW" ear verify -in "$T/cmw.cbor" -key-pub "$T/v.pem" -inform json
printf '["application/eat+cwt","%s"]\n' "$b64" >"$T/cwt.json"
expect_rc 1 "$AVOW" ear verify -in "$T/cwt.json" -key-pub "$T/v.pem"
grep -q "AVOW_ERR_NOT_EAR" "$T/err" || fail "another media type in the CMW not refused"

# --- ear show: labelled, not verified ---
expect_rc 0 "$AVOW" ear show -in "$V/test-jwt.jwt"
head -1 "$T/out" | grep -q "^NOT VERIFIED" || fail "show: no NOT VERIFIED label"
grep -q '"ear.status": "affirming"' "$T/out" || fail "show: payload"
expect_rc 0 "$AVOW" ear show -in "$V/ear-claims-key-attestation-ok.json" -json
jq -e '.verified == false and .ear.submods.PARSEC_TPM["ear.status"] == "affirming"' "$T/out" >/dev/null ||
    fail "show -json of EAR JSON"
expect_rc 0 "$AVOW" ear show -in "$T/cmw.cbor"
grep -q "^NOT VERIFIED" "$T/out" || fail "show of a CBOR CMW"
expect_rc 0 "$AVOW" ear show -in "$V/verify-fail-alg-none.jwt"
expect_rc 0 "$AVOW" ear --help
grep -q "verify" "$T/out" || fail "ear --help"

# --- npm jose signs with each typ spelling ---
command -v node >/dev/null 2>&1 || { echo "ok (npm part skipped: no node)"; exit 0; }
command -v npm >/dev/null 2>&1 || { echo "ok (npm part skipped: no npm)"; exit 0; }
if ! npm install --prefix "$T/npm" --no-audit --no-fund --no-package-lock --silent \
    --fetch-retries=1 --fetch-timeout=30000 jose >"$T/npm.log" 2>&1; then
    echo "ok (npm part skipped: npm install jose failed)"
    exit 0
fi
cat >"$T/npm/sign.mjs" <<'JS'
import { writeFileSync } from "node:fs";
import * as jose from "jose";

const [dir] = process.argv.slice(2);
const now = Math.floor(Date.now() / 1000);
const ear = (iat, exp) => ({
  eat_profile: "tag:ietf.org,2026:rats/ear#03",
  iat,
  exp,
  ear_status: "affirming",
  ear_verifier_id: { developer: "jose-interop", build: "node" },
  submods: { "pkix-evidence": { ear_status: "affirming", ear_trustworthiness_vector: { hardware: 2 } } },
});
const { publicKey, privateKey } = await jose.generateKeyPair("ES256");
const jwk = { ...(await jose.exportJWK(publicKey)), kid: "jose-1", use: "sig", alg: "ES256" };
writeFileSync(`${dir}/jose.jwks`, JSON.stringify({ keys: [jwk] }));
writeFileSync(`${dir}/jose.pem`, await jose.exportSPKI(publicKey));
const sign = (hdr, claims) => new jose.SignJWT(claims).setProtectedHeader({ alg: "ES256", kid: "jose-1", ...hdr }).sign(privateKey);
const good = ear(now, now + 600);
const typs = {
  "eat+jwt": "eat+jwt",
  "eat-jwt": "eat-jwt",
  "media": 'application/eat+jwt; eat_profile="tag:ietf.org,2026:rats/ear#03"',
  "JWT": "JWT",
};
for (const [name, typ] of Object.entries(typs)) writeFileSync(`${dir}/typ-${name}.jwt`, await sign({ typ }, good));
writeFileSync(`${dir}/typ-absent.jwt`, await sign({}, good));
writeFileSync(`${dir}/typ-other.jwt`, await sign({ typ: "dpop+jwt" }, good));
writeFileSync(`${dir}/expired.jwt`, await sign({ typ: "eat+jwt" }, ear(now - 7200, now - 3600)));
writeFileSync(`${dir}/future.jwt`, await sign({ typ: "eat+jwt" }, ear(now + 3600, now + 7200)));
writeFileSync(`${dir}/nokid.jwt`, await new jose.SignJWT(good).setProtectedHeader({ alg: "ES256", typ: "eat+jwt" }).sign(privateKey));
// alg none: jose's UnsecuredJWT, the same claims without a signature
writeFileSync(`${dir}/none.jwt`, new jose.UnsecuredJWT(good).encode());
JS
expect_rc 0 node "$T/npm/sign.mjs" "$T"
for name in eat+jwt eat-jwt media JWT absent; do
    expect_rc 0 "$AVOW" ear verify -in "$T/typ-$name.jwt" -jwks "$T/jose.jwks"
    grep -q '^EAR: VERIFIED (signature ES256, kid "jose-1"' "$T/out" || { cat "$T/out"; fail "jose typ $name"; }
    grep -q '^status: affirming$' "$T/out" || fail "jose typ $name: status"
    expect_rc 0 "$AVOW" ear verify -in "$T/typ-$name.jwt" -key-pub "$T/jose.pem"
done
expect_rc 0 "$AVOW" ear verify -in "$T/nokid.jwt" -jwks "$T/jose.jwks"
expect_rc 3 "$AVOW" ear verify -in "$T/typ-other.jwt" -jwks "$T/jose.jwks"
grep -q "jwt.header.typ" "$T/err" || fail "typ dpop+jwt not refused"
expect_rc 1 "$AVOW" ear verify -in "$T/expired.jwt" -jwks "$T/jose.jwks"
grep -q "AVOW_ERR_EXPIRED" "$T/err" || fail "expired EAR not refused"
expect_rc 0 "$AVOW" ear verify -in "$T/expired.jwt" -jwks "$T/jose.jwks" -leeway 7200
expect_rc 0 "$AVOW" ear verify -in "$T/expired.jwt" -jwks "$T/jose.jwks" -at "@$(( $(date +%s) - 5000 ))"
# AVOW_ERR_BAD_TIME is in the malformed-input range: exit 3
expect_rc 3 "$AVOW" ear verify -in "$T/future.jwt" -jwks "$T/jose.jwks"
grep -q "AVOW_ERR_BAD_TIME" "$T/err" || fail "iat in the future not refused"
expect_rc 1 "$AVOW" ear verify -in "$T/none.jwt" -jwks "$T/jose.jwks"
grep -q "AVOW_ERR_SIG_ALG" "$T/err" || fail "jose alg none not refused"
expect_rc 1 "$AVOW" ear verify -in "$T/typ-eat+jwt.jwt" -key-pub "$T/v.pem"
expect_rc 1 "$AVOW" ear verify -in "$T/typ-eat+jwt.jwt" -jwks "$T/v.jwks"
grep -q "AVOW_ERR_KID_UNKNOWN" "$T/err" || fail "kid of another set not refused"
echo ok
