#!/bin/sh
# Regenerates the vectors of this directory with the PQ build: OpenSSL 3.5
# (scripts/deps pq) for keys and certificates, and an avow built against it.
#   tests/vectors/pq/make.sh [AVOW] [OPENSSL]
# defaults: build/pq/avow and the openssl of scripts/deps pq-prefix. Keys are
# thrown away: the vectors are for verifying only.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
AVOW=${1:-$root/build/pq/avow}
OPENSSL=${2:-$("$root/scripts/deps" pq-prefix)/bin/openssl}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"

ak_ext() {
    printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=1.3.6.1.5.5.7.3.999\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >ak.ext
}
ak_ext
# An ECDSA P-256 hierarchy and an ML-DSA-65 one; 100 years, so the vectors do not expire.
"$OPENSSL" req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ec-root.key \
    -subj "/O=avow test/CN=EC Root" -days 36500 -out ec-root.crt 2>/dev/null
"$OPENSSL" req -x509 -newkey ML-DSA-65 -nodes -keyout mldsa-root.key \
    -subj "/O=avow test/CN=ML-DSA-65 Root" -days 36500 -out mldsa-root.crt 2>/dev/null
"$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec-ak.key
"$OPENSSL" genpkey -algorithm ML-DSA-65 -out mldsa-ak.key
"$OPENSSL" req -new -key ec-ak.key -subj "/O=avow test/CN=EC AK" -out ec-ak.csr
"$OPENSSL" x509 -req -in ec-ak.csr -CA ec-root.crt -CAkey ec-root.key -days 36500 \
    -extfile ak.ext -out ec-ak.crt 2>/dev/null
"$OPENSSL" req -new -key mldsa-ak.key -subj "/O=avow test/CN=ML-DSA-65 AK" -out mldsa-ak.csr
"$OPENSSL" x509 -req -in mldsa-ak.csr -CA mldsa-root.crt -CAkey mldsa-root.key -days 36500 \
    -extfile ak.ext -out mldsa-ak.crt 2>/dev/null

"$AVOW" evidence create -nonce 0011223344556677 -timestamp @1796083200 -ak-spki -vendor "Acme Corp" \
    -hwmodel HSM-PQ -signkey ec-ak.key -signcert ec-ak.crt -signkey mldsa-ak.key \
    -signcert mldsa-ak.crt -outform DER -out hybrid.der
"$AVOW" evidence verify -in hybrid.der -inform DER -CAfile ec-root.crt -CAfile mldsa-root.crt \
    -nonce 0011223344556677 >/dev/null

cp ec-root.crt mldsa-root.crt hybrid.der "$here/"
echo "wrote $here/{ec-root.crt,mldsa-root.crt,hybrid.der} ($(wc -c <hybrid.der) bytes of Evidence)"
