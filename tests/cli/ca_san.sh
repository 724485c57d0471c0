#!/bin/sh
# Certificates a TLS client accepts: csr create -san puts subjectAltNames in
# the request (PKCS#10 extensionRequest, CRMF template), ca issue copies them
# under -san-allow, sets them (-san) or drops them (-drop-san), and refuses a
# request whose names it was told nothing about. openssl verify with
# -verify_hostname / -verify_ip / -verify_email, and a real handshake with
# openssl s_server / s_client on 127.0.0.1, are the client. Subjects are
# RFC 4514 text, most specific first: the DER holds them the other way round.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"

CA="$T/ca"
expect_rc 0 "$AVOW" ca init -dir "$CA" -subject "CN=avow SAN CA,O=avow test"
# RFC 4514 order: the DER (and openssl's default one-line output) has O first
openssl x509 -in "$CA/ca.crt" -noout -subject >"$T/s"
grep -qx "subject=O = avow test, CN = avow SAN CA" "$T/s" || { cat "$T/s"; fail "CA subject DER order"; }
openssl x509 -in "$CA/ca.crt" -noout -subject -nameopt RFC2253 >"$T/s"
grep -qx "subject=CN=avow SAN CA,O=avow test" "$T/s" || { cat "$T/s"; fail "CA subject RFC 2253"; }

make_ca
make_ak ak ec256
keygen "$T/dev.key" ec256

# request NAME FORMAT SUBJECT SAN...: a fresh nonce, Evidence about dev.key, the request in $T/NAME.req
request() {
    name=$1 format=$2 subject=$3
    shift 3
    expect_rc 0 "$AVOW" ca nonce -dir "${RCA:-$CA}"
    nonce=$(cat "$T/out")
    spki=$(openssl pkey -in "$T/dev.key" -pubout -outform DER | od -An -v -tx1 | tr -d ' \n')
    cat >"$T/claims.json" <<JSON
{"keys": [{"identifier": "device-key", "spki": {"hex": "$spki"}, "extractable": false, "sensitive": true,
           "never-extractable": true, "local": true}]}
JSON
    expect_rc 0 "$AVOW" evidence create -claims "$T/claims.json" -nonce "$nonce" \
        -signkey "$T/ak.key" -signcert "$T/ak.pem" -chain "$T/int.pem" -out "$T/$name.ev"
    set -- "$@"
    sans=""
    for s in "$@"; do sans="$sans -san $s"; done
    # shellcheck disable=SC2086
    expect_rc 0 "$AVOW" csr create -key "$T/dev.key" -format "$format" -subject "$subject" \
        -evidence "$T/$name.ev" -chain "$T/int.pem" $sans -out "$T/$name.req"
}

issue() {
    "$AVOW" ca issue -dir "${RCA:-$CA}" -CAfile "$T/root.pem" -eku serverAuth,clientAuth "$@"
}

# client CERT ARGS...: openssl verify as a TLS client would check the server certificate
client() {
    cert=$1
    shift
    openssl verify -CAfile "${RCA:-$CA}/ca.crt" -purpose sslserver "$@" "$cert" >"$T/verify" 2>&1
}

# --- the request carries the names beside the attestation ---
request r1 pkcs10 "CN=tls.example,O=avow test" \
    "DNS:tls.example,DNS:alt.example,IP:127.0.0.1" "IP:::1,URI:spiffe://avow.test/dev,email:ops@avow.test"
openssl req -in "$T/r1.req" -noout -text >"$T/r1.txt"
grep -q "DNS:tls.example, DNS:alt.example, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, URI:spiffe://avow.test/dev, email:ops@avow.test" \
    "$T/r1.txt" || { cat "$T/r1.txt"; fail "request SAN as openssl reads it"; }
grep -q "Subject: O = avow test, CN = tls.example" "$T/r1.txt" || fail "request subject DER order"
expect_rc 0 "$AVOW" csr show -in "$T/r1.req"
grep -qx "Subject: CN=tls.example,O=avow test" "$T/out" || { cat "$T/out"; fail "csr show subject"; }
grep -qx "Subject alternative names: DNS:tls.example, DNS:alt.example, IP:127.0.0.1, IP:::1, URI:spiffe://avow.test/dev, email:ops@avow.test" \
    "$T/out" || { cat "$T/out"; fail "csr show names"; }
expect_rc 0 "$AVOW" csr show -in "$T/r1.req" -json
jq -e '.subject == "CN=tls.example,O=avow test" and (.subject_alt_names | length == 6) and .subject_alt_names[3] == "IP:::1"' \
    "$T/out" >/dev/null || { cat "$T/out"; fail "csr show -json names"; }

# --- the CA is told nothing: refused, nothing issued, the nonce still good ---
set +e
issue -in "$T/r1.req" >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat "$T/err"; fail "unhandled names: exit $rc"; }
grep -q "request.subjectAltName: .*-copy-san.*AVOW_ERR_SAN_UNHANDLED" "$T/err" || { cat "$T/err"; fail "unhandled names message"; }
[ -z "$(ls "$CA/certs")" ] || fail "a certificate was issued for unhandled names"

# --- -copy-san copies DNS only by default: the IP is refused by name ---
set +e
issue -in "$T/r1.req" -copy-san >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat "$T/err"; fail "copy of IP: exit $rc"; }
grep -q "request.subjectAltName\[2\]: IP:127.0.0.1: this kind is not allowed.*AVOW_ERR_SAN_REFUSED" "$T/err" ||
    { cat "$T/err"; fail "IP refused without -san-allow"; }

# --- -copy-san with every kind allowed: the client accepts each name ---
expect_rc 0 issue -in "$T/r1.req" -copy-san -san-allow dns,ip,uri,email -out "$T/c1.pem"
grep -qx "subject: CN=tls.example,O=avow test" "$T/out" || { cat "$T/out"; fail "issue summary subject"; }
grep -q "^names: DNS:tls.example, DNS:alt.example, IP:127.0.0.1, IP:::1," "$T/out" || { cat "$T/out"; fail "issue summary names"; }
openssl x509 -in "$T/c1.pem" -noout -text >"$T/c1.txt"
grep -q "DNS:tls.example, DNS:alt.example, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, URI:spiffe://avow.test/dev, email:ops@avow.test" \
    "$T/c1.txt" || { cat "$T/c1.txt"; fail "certificate SAN"; }
grep -A1 "Subject Alternative Name" "$T/c1.txt" | grep -q critical && fail "SAN critical with a subject"
openssl x509 -in "$T/c1.pem" -noout -subject -nameopt RFC2253 | grep -qx "subject=CN=tls.example,O=avow test" ||
    fail "certificate subject order"
client "$T/c1.pem" -verify_hostname tls.example || { cat "$T/verify"; fail "client: tls.example"; }
client "$T/c1.pem" -verify_hostname alt.example || { cat "$T/verify"; fail "client: alt.example"; }
client "$T/c1.pem" -verify_ip 127.0.0.1 || { cat "$T/verify"; fail "client: 127.0.0.1"; }
client "$T/c1.pem" -verify_ip ::1 || { cat "$T/verify"; fail "client: ::1"; }
client "$T/c1.pem" -verify_email ops@avow.test || { cat "$T/verify"; fail "client: email"; }
client "$T/c1.pem" -verify_hostname other.example && fail "client accepted a name not in the certificate"
grep -q "hostname mismatch" "$T/verify" || { cat "$T/verify"; fail "mismatch reason"; }
client "$T/c1.pem" -verify_ip 127.0.0.2 && fail "client accepted an IP not in the certificate"
# a real handshake: openssl s_server with the issued certificate on 127.0.0.1, s_client as the client
handshake() {
    # -www: the server does not read its stdin (which is at EOF here)
    openssl s_server -cert "$T/c1.pem" -key "$T/dev.key" -accept 127.0.0.1:0 -naccept 1 -www \
        </dev/null >"$T/srv.out" 2>&1 &
    srv=$!
    port=""
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        port=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T/srv.out")
        [ -n "$port" ] && break
        sleep 0.2
    done
    [ -n "$port" ] || { kill "$srv" 2>/dev/null; cat "$T/srv.out"; fail "s_server did not start"; }
    set +e
    openssl s_client -connect "127.0.0.1:$port" -CAfile "$CA/ca.crt" -verify_return_error -brief \
        "$@" </dev/null >"$T/cli.out" 2>&1
    hrc=$?
    set -e
    kill "$srv" 2>/dev/null || true
    wait "$srv" 2>/dev/null || true
    [ "$hrc" -eq 0 ] && grep -q "^Verification: OK" "$T/cli.out"
}
handshake -verify_hostname tls.example || { cat "$T/cli.out"; fail "TLS handshake: tls.example"; }
grep -q "^Verified peername: tls.example" "$T/cli.out" || { cat "$T/cli.out"; fail "TLS peer name"; }
handshake -verify_ip 127.0.0.1 || { cat "$T/cli.out"; fail "TLS handshake: 127.0.0.1"; }
handshake -verify_hostname other.example && fail "TLS handshake accepted other.example"
grep -q "hostname mismatch" "$T/cli.out" || { cat "$T/cli.out"; fail "TLS mismatch reason"; }
expect_rc 0 "$AVOW" ca list -dir "$CA"
grep -q "CN=tls.example,O=avow test" "$T/out" || { cat "$T/out"; fail "ca list subject order"; }

# --- -san sets the names, the request's are not copied ---
request r2 pkcs10 "CN=dev 2" "DNS:asked.example"
expect_rc 0 issue -in "$T/r2.req" -san "DNS:set.example" -san "IP:192.0.2.7" -out "$T/c2.pem"
openssl x509 -in "$T/c2.pem" -noout -ext subjectAltName >"$T/c2.txt"
grep -q "DNS:set.example, IP Address:192.0.2.7" "$T/c2.txt" || { cat "$T/c2.txt"; fail "-san names"; }
grep -q asked "$T/c2.txt" && fail "-san copied the request's name too"
client "$T/c2.pem" -verify_hostname set.example || { cat "$T/verify"; fail "client: set.example"; }
client "$T/c2.pem" -verify_hostname asked.example && fail "client accepted the request's name"

# --- -drop-san: no extension ---
request r3 pkcs10 "CN=dev 3" "DNS:dropped.example"
expect_rc 0 issue -in "$T/r3.req" -drop-san -out "$T/c3.pem"
openssl x509 -in "$T/c3.pem" -noout -text | grep -q "Subject Alternative Name" && fail "-drop-san kept names"

# --- CRMF carries them in the certTemplate ---
request r4 crmf "CN=crmf.example" "DNS:crmf.example,IP:10.0.0.1"
expect_rc 0 "$AVOW" csr show -in "$T/r4.req"
grep -qx "Subject alternative names: DNS:crmf.example, IP:10.0.0.1" "$T/out" || { cat "$T/out"; fail "CRMF names"; }
expect_rc 0 issue -in "$T/r4.req" -copy-san -san-allow dns,ip -out "$T/c4.pem"
client "$T/c4.pem" -verify_hostname crmf.example || { cat "$T/verify"; fail "client: crmf.example"; }
client "$T/c4.pem" -verify_ip 10.0.0.1 || { cat "$T/verify"; fail "client: 10.0.0.1"; }

# --- a wildcard is copied only when allowed as such ---
request r5 pkcs10 "CN=wild" "DNS:*.wild.example"
set +e
issue -in "$T/r5.req" -copy-san -san-allow dns >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q "a wildcard is not allowed.*AVOW_ERR_SAN_REFUSED" "$T/err" || { cat "$T/err"; fail "wildcard copied"; }
expect_rc 0 issue -in "$T/r5.req" -copy-san -san-allow dns,wildcard -out "$T/c5.pem"
client "$T/c5.pem" -verify_hostname a.wild.example || { cat "$T/verify"; fail "client: wildcard"; }

# --- the CA's own default of kinds: ca.json san_allow, set by ca init ---
CA2="$T/ca2"
expect_rc 0 "$AVOW" ca init -dir "$CA2" -subject "CN=second CA" -san-allow dns,ip
jq -e '.san_allow == "dns,ip"' "$CA2/ca.json" >/dev/null || fail "ca.json san_allow"
RCA=$CA2
request r6 pkcs10 "CN=two.example" "DNS:two.example,IP:192.0.2.9"
expect_rc 0 issue -in "$T/r6.req" -copy-san -out "$T/c6.pem"
client "$T/c6.pem" -verify_ip 192.0.2.9 || { cat "$T/verify"; fail "ca.json san_allow: IP not copied"; }
request r7 pkcs10 "CN=three.example" "DNS:three.example,URI:https://three.example/"
expect_rc 1 issue -in "$T/r7.req" -copy-san
grep -q "request.subjectAltName\[1\]: URI:https://three.example/: this kind is not allowed" "$T/err" ||
    { cat "$T/err"; fail "ca.json san_allow: URI copied"; }
# -san-allow on the command line replaces ca.json's
expect_rc 0 issue -in "$T/r7.req" -copy-san -san-allow dns,uri -out "$T/c7.pem"
openssl x509 -in "$T/c7.pem" -noout -ext subjectAltName | grep -q "URI:https://three.example/" ||
    fail "-san-allow over ca.json"
RCA=
expect_rc 2 "$AVOW" ca init -dir "$T/ca3" -san-allow dns,ftp
grep -q '"ftp"' "$T/err" || { cat "$T/err"; fail "ca init -san-allow ftp"; }
[ ! -e "$T/ca3" ] || fail "a refused init left a directory"
jq '.san_allow = 7' "$CA2/ca.json" >"$T/bad.json" && cp "$T/bad.json" "$CA2/ca.json"
expect_rc 1 "$AVOW" ca nonce -dir "$CA2"
grep -q "san_allow.*AVOW_ERR_CONFIG" "$T/err" || { cat "$T/err"; fail "bad ca.json san_allow"; }

# --- bad names are usage errors that say what is wrong ---
bad_csr() {
    expect_rc 2 "$AVOW" csr create -key "$T/dev.key" -evidence "$T/r1.ev" -san "$1" -out "$T/bad.req"
    grep -q "$2" "$T/err" || { cat "$T/err"; fail "-san $1: message"; }
    [ ! -e "$T/bad.req" ] || fail "-san $1 wrote a request"
}
bad_csr "DNS:bad_name.example" "san\[0\]: DNS: DNS name holds a character other than.*AVOW_ERR_BAD_SAN"
bad_csr "DNS:ok.example,IP:1.2.3" "san\[1\]: IP:1.2.3: not an IPv4 or IPv6 address"
bad_csr "URI:no-scheme" "URI has no ':' after its scheme"
bad_csr "email:a@b@c.example" "more than one '@'"
bad_csr "DNS:a.*.example" "'\*' is allowed only as the whole first label"
bad_csr "host.example" "want DNS:, IP:, URI: or email:"
bad_csr "DNS:a.example," "empty entry"
expect_rc 2 issue -in "$T/r1.req" -san "IP:300.1.1.1"
grep -q "AVOW_ERR_BAD_SAN" "$T/err" || { cat "$T/err"; fail "ca issue -san bad"; }
# each -san is a list of its own: a trailing '\' does not escape the comma that joins them
expect_rc 2 issue -in "$T/r1.req" -san 'URI:x:a\' -san "DNS:b.example"
grep -q "must be followed by ',' or.*AVOW_ERR_BAD_SAN" "$T/err" || { cat "$T/err"; fail "-san join"; }
expect_rc 2 issue -in "$T/r1.req" -san "DNS:x.example" -copy-san
grep -q "give one of -san, -copy-san and -drop-san" "$T/err" || { cat "$T/err"; fail "-san with -copy-san"; }
expect_rc 2 issue -in "$T/r1.req" -copy-san -san-allow dns,ftp
grep -q "ftp" "$T/err" || { cat "$T/err"; fail "-san-allow unknown kind"; }

# --- subject text: escapes, multi-valued RDNs, both forms, errors ---
expect_rc 0 "$AVOW" csr create -key "$T/dev.key" -evidence "$T/r1.ev" \
    -subject 'CN=Acme\, Inc.+UID=7,OU=R\2BD,O=avow test,C=SE' -out "$T/s1.req"
openssl req -in "$T/s1.req" -noout -subject -nameopt RFC2253 >"$T/s"
grep -qx 'subject=CN=Acme\\, Inc.+UID=7,OU=R\\+D,O=avow test,C=SE' "$T/s" || { cat "$T/s"; fail "RFC 4514 subject"; }
openssl req -in "$T/s1.req" -noout -subject >"$T/s"
# DER: C first; the two attributes of the first RDN in their DER SET OF order
grep -qx 'subject=C = SE, O = avow test, OU = "R+D", UID = 7 + CN = "Acme, Inc."' "$T/s" ||
    { cat "$T/s"; fail "DER order of the subject"; }
expect_rc 0 "$AVOW" csr create -key "$T/dev.key" -evidence "$T/r1.ev" -subject '/C=SE/O=avow test/CN=slash' \
    -out "$T/s2.req"
openssl req -in "$T/s2.req" -noout -subject -nameopt RFC2253 | grep -qx 'subject=CN=slash,O=avow test,C=SE' ||
    fail "slash form subject"
expect_rc 2 "$AVOW" csr create -key "$T/dev.key" -evidence "$T/r1.ev" -subject 'CN=a,C=Sweden'
grep -q "subject: attribute C.*AVOW_ERR_BAD_DN" "$T/err" || { cat "$T/err"; fail "C=Sweden"; }
expect_rc 2 "$AVOW" csr create -key "$T/dev.key" -evidence "$T/r1.ev" -subject 'CN=a;O=b'
grep -q "attribute 1 (CN): unescaped ';'" "$T/err" || { cat "$T/err"; fail "unescaped ;"; }
expect_rc 2 "$AVOW" csr create -key "$T/dev.key" -evidence "$T/r1.ev" -subject 'CN=a,XX=b'
grep -q "attribute 2 (XX): unknown attribute type" "$T/err" || { cat "$T/err"; fail "unknown type"; }
echo "ca_san: ok"
