#!/bin/sh
# A build with AVOW_WITH_PKCS11=OFF: every command that reaches a token says
# the build has no PKCS#11 (and exits 1), while key files work as before.
# Skipped (77) in a build with PKCS#11, where the SoftHSM2 scripts run.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

if [ "${AVOW_WITH_PKCS11:-ON}" != OFF ]; then
    echo "SKIP: avow built with PKCS#11"
    exit 77
fi
MSG='avow was built without PKCS#11 (AVOW_WITH_PKCS11=OFF)'
MOD=$T/any-module.so
TOK="pkcs11:token=t"

# off CMD...: CMD exits 1 and says why
off() {
    expect_rc 1 "$@"
    grep -qF "$MSG" "$T/err" || fail "no word of the build: $(cat "$T/err")"
    grep -q 'AVOW_ERR_UNSUPPORTED' "$T/err" || fail "not AVOW_ERR_UNSUPPORTED: $(cat "$T/err")"
}

off "$AVOW" keygen -pkcs11-module "$MOD" -token-uri "$TOK;object=k" -pin-source pass:1
off "$AVOW" keygen -pkcs11-module "$MOD" -token-uri "$TOK" -label k -pin-source pass:1
# the build is the reason even when no module could be found
AVOW_PKCS11_MODULE= off "$AVOW" keygen -token-uri "$TOK;object=k" -pin-source pass:1

make_ca
make_ak ak ec256
keygen "$T/dev.key" ec256
off "$AVOW" evidence create -pkcs11-module "$MOD" -signkey "$TOK;object=ak" -pin-source pass:1 \
    -nonce 00
off "$AVOW" evidence create -pkcs11-module "$MOD" -platform-from "$TOK" -nonce 00
off "$AVOW" evidence create -pkcs11-module "$MOD" -attest-key "$TOK;object=k" -pin-source pass:1 \
    -signkey "$T/ak.key" -nonce 00

# key files need no token
spki=$(openssl pkey -in "$T/dev.key" -pubout -outform DER | od -An -v -tx1 | tr -d ' \n')
cat >"$T/claims.json" <<JSON
{"keys": [{"identifier": "dev", "spki": {"hex": "$spki"}, "extractable": false, "sensitive": true,
           "never-extractable": true, "local": true}]}
JSON
expect_rc 0 "$AVOW" evidence create -claims "$T/claims.json" -nonce 00112233 \
    -signkey "$T/ak.key" -signcert "$T/ak.pem" -chain "$T/int.pem" -out "$T/ev.pem"
off "$AVOW" csr create -pkcs11-module "$MOD" -key "$TOK;object=k" -pin-source pass:1 \
    -subject CN=x -evidence "$T/ev.pem"
expect_rc 0 "$AVOW" csr create -key "$T/dev.key" -subject CN=dev -evidence "$T/ev.pem" \
    -out "$T/req.pem"
expect_rc 0 "$AVOW" csr verify -in "$T/req.pem" -CAfile "$T/root.pem" -nonce 00112233
off "$AVOW" csr verify -in "$T/req.pem" -CAfile "$T/root.pem" -nonce 00112233 \
    -pkcs11-module "$MOD" -pin-source pass:1 -ear-key "$TOK;object=ear" -jwt-out "$T/ear.jwt"
[ ! -e "$T/ear.jwt" ] || fail "a JWT was written without a key"

off "$AVOW" ca init -dir "$T/ca" -key "$TOK;object=ca" -pkcs11-module "$MOD" -pin-source pass:1
[ ! -e "$T/ca" ] || fail "a failed token CA init left a directory"
expect_rc 0 "$AVOW" ca init -dir "$T/ca"
echo ok
