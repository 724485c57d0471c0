#!/bin/sh
# The README's five-minute tour, run as written: every ```sh block under
# "A five-minute tour" except the build lines, in a scratch directory with
# the avow under test first on PATH. Then its promises are checked.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

README=$TESTS_DIR/../README.md
awk '/^## A five-minute tour/ {on = 1; next} /^## / {on = 0}
     on && /^```sh$/ {code = 1; next} on && /^```$/ {code = 0; next}
     on && code' "$README" | grep -v -e '^cmake ' -e '^export PATH=' >"$T/tour.sh"
[ -s "$T/tour.sh" ] || fail "no tour found in README.md"

mkdir "$T/bin"
ln -s "$AVOW" "$T/bin/avow"
# bash: the tour uses process substitution, as a reader's shell would.
(cd "$T" && PATH="$T/bin:$PATH" bash "$T/tour.sh") >"$T/tour.out" 2>&1 || true

cd "$T"
[ -s ev.pem ] || { cat tour.out >&2; fail "the tour made no ev.pem"; }
expect_rc 0 "$AVOW" evidence verify -in ev.pem -CAfile ca.crt -nonce 0011223344556677
[ -s tls.csr ] || { cat tour.out >&2; fail "the tour made no tls.csr"; }
openssl req -in tls.csr -noout -verify 2>&1 | grep -q "verify OK" || fail "openssl does not verify tls.csr"
[ -s tls.crt ] || { cat tour.out >&2; fail "the tour issued no certificate"; }
openssl verify -CAfile myca/ca.crt tls.crt >/dev/null || fail "tls.crt does not chain to the tour's CA"
openssl verify -CAfile myca/ca.crt -purpose sslserver -verify_hostname server.example tls.crt >/dev/null ||
    fail "a TLS client does not accept tls.crt for server.example"
expect_rc 0 "$AVOW" ca show-result -in tls.crt -CAfile myca/ca.crt
grep -q '"ear_status": "affirming"' "$T/out" || fail "the certificate does not carry an affirming EAR"
[ -s ear.jwt ] || { cat tour.out >&2; fail "the tour wrote no ear.jwt"; }
expect_rc 0 "$AVOW" ear verify -in ear.jwt -cert myca/ca.crt
grep -q '^EAR: VERIFIED (signature .*typ "eat+jwt")$' "$T/out" || fail "ear verify of the tour's EAR"
echo ok
