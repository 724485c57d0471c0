# A fresh SoftHSM2 token for one test script; source it after pki.sh.
#
# softhsm_token LABEL [PIN]: exits 77 (skipped) in a build without PKCS#11 or
# on a machine without SoftHSM2; otherwise initialises a token LABEL in a token
# directory of its own under $T and sets MOD (the module), PIN, TOK (the
# token's URI), SOFTHSM2_CONF and AVOW_TEST_PIN (both exported, so avow and
# softhsm2-util see the token and -pin-source env:AVOW_TEST_PIN works).
softhsm_token() {
    if [ "${AVOW_WITH_PKCS11:-ON}" = OFF ]; then
        echo "SKIP: avow built without PKCS#11 (pkcs11_off.sh covers that build)"
        exit 77
    fi
    MOD=/usr/lib/softhsm/libsofthsm2.so
    if [ ! -r "$MOD" ] || ! command -v softhsm2-util >/dev/null 2>&1; then
        echo "SKIP: SoftHSM2 ($MOD) not installed"
        exit 77
    fi
    # a module named by the caller's environment would not be this token's
    unset AVOW_PKCS11_MODULE || true
    PIN=${2:-4321}
    mkdir -p "$T/tokens"
    printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
        "$T/tokens" >"$T/softhsm2.conf"
    SOFTHSM2_CONF=$T/softhsm2.conf
    export SOFTHSM2_CONF
    softhsm2-util --init-token --free --label "$1" --so-pin 12345678 --pin "$PIN" >/dev/null
    TOK="pkcs11:token=$1"
    AVOW_TEST_PIN=$PIN
    export AVOW_TEST_PIN
}

# token_ak_cert ROOT: a test manufacturer root ($T/ROOT.key, $T/ROOT.crt) and
# $T/ak.crt, the AK certificate it issues for the token key whose public key
# is $T/ak.pub (keyUsage digitalSignature, the AK EKU, a subjectKeyIdentifier).
token_ak_cert() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$1.key" \
        -subj "/O=avow test/CN=Test Manufacturer Root" -days 30 \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
        -out "$T/$1.crt" 2>/dev/null
    printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectKeyIdentifier=hash\n' \
        "$AK_EKU" >"$T/ak.ext"
    openssl x509 -new -force_pubkey "$T/ak.pub" -subj "/O=avow test/CN=Token AK" -CA "$T/$1.crt" \
        -CAkey "$T/$1.key" -days 30 -extfile "$T/ak.ext" -out "$T/ak.crt" 2>/dev/null ||
        fail "openssl cannot issue the AK certificate"
}

# token_evidence KEYOBJ NONCE OUT [more avow evidence create options]: PKIX
# Evidence in OUT, signed by the token's AK (object ak, certificate
# $T/ak.crt) about the token key KEYOBJ, with the token's platform claims.
token_evidence() {
    k=$1
    n=$2
    o=$3
    shift 3
    expect_rc 0 "$AVOW" evidence create -signkey "$TOK;object=ak" -signcert "$T/ak.crt" \
        -pin-source env:AVOW_TEST_PIN -platform-from "$TOK" -attest-key "$TOK;object=$k" \
        -nonce "$n" -out "$o" "$@"
}
