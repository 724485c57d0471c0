# Shared by tests/cli/*.sh (sourced, not a test itself): a temporary
# directory, a Root -> Intermediate -> attestation-key chain made with the
# openssl command line, and small assertion helpers.

: "${AVOW:?AVOW must name the avow binary}"
: "${TESTS_DIR:?TESTS_DIR must name the tests directory}"
AK_EKU=${AVOW_AK_EKU:-1.3.6.1.5.5.7.3.999}

T=$(mktemp -d "${TMPDIR:-/tmp}/avow-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# expect_rc WANT CMD...: runs CMD, fails the test unless it exits WANT.
expect_rc() {
    want=$1
    shift
    set +e
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    set -e
    if [ "$got" -ne "$want" ]; then
        cat "$T/out" "$T/err" >&2
        fail "exit $got, wanted $want: $*"
    fi
}

# keygen FILE ec256|ec384|rsa|ed25519
keygen() {
    case $2 in
    ec256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null ;;
    ec384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$1" 2>/dev/null ;;
    rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null ;;
    ed25519) openssl genpkey -algorithm ED25519 -out "$1" 2>/dev/null ;;
    *) fail "unknown key type $2" ;;
    esac
}

# make_ca: root.pem (anchor), int.pem (intermediate) and their keys in $T.
make_ca() {
    keygen "$T/root.key" ec256
    openssl req -x509 -new -key "$T/root.key" -subj "/O=avow test/CN=Test Root" -days 3650 \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$T/root.pem" 2>/dev/null
    keygen "$T/int.key" ec256
    openssl req -new -key "$T/int.key" -subj "/O=avow test/CN=Test Intermediate" -out "$T/int.csr" 2>/dev/null
    printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >"$T/int.ext"
    openssl x509 -req -in "$T/int.csr" -CA "$T/root.pem" -CAkey "$T/root.key" -CAcreateserial \
        -days 3650 -extfile "$T/int.ext" -out "$T/int.pem" 2>/dev/null
}

# make_ak NAME TYPE: $T/NAME.key and $T/NAME.pem, an attestation-key certificate
# issued by the intermediate (keyUsage digitalSignature, EKU id-kp-attestationKey).
make_ak() {
    keygen "$T/$1.key" "$2"
    openssl req -new -key "$T/$1.key" -subj "/O=avow test/CN=AK $1" -out "$T/$1.csr" 2>/dev/null
    printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' \
        "$AK_EKU" >"$T/$1.ext"
    openssl x509 -req -in "$T/$1.csr" -CA "$T/int.pem" -CAkey "$T/int.key" -CAcreateserial \
        -days 365 -extfile "$T/$1.ext" -out "$T/$1.pem" 2>/dev/null
}

# tbs_of DER OUT: copies the DER of Evidence.tbs (the first element) to OUT.
tbs_of() {
    line=$(openssl asn1parse -inform DER -in "$1" | sed -n 2p)
    off=$(echo "$line" | sed 's/^ *\([0-9]*\):.*/\1/')
    hl=$(echo "$line" | sed 's/.*hl= *\([0-9]*\).*/\1/')
    len=$(echo "$line" | sed 's/.*l= *\([0-9]*\) .*/\1/')
    dd if="$1" of="$2" bs=1 skip="$off" count=$((hl + len)) 2>/dev/null
}
