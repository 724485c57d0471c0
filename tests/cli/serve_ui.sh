#!/bin/sh
# avow serve, /ui: the status page of recent enrolments, rendered by headless
# Chromium. One affirming enrolment (a non-extractable SoftHSM2 key) and one
# contraindicated (an extractable key) through EST; the rendered DOM must
# show both rows with their tier, the failed rule on the refused one and the
# serial on the issued one, and nothing of a hostile subject may become
# markup. The screenshot (kept as serve_ui.png in the build's test directory)
# must be a real picture. Skipped (77) without SoftHSM2 or when Chromium
# cannot run.
set -eu
. "$TESTS_DIR/cli/lib/pki.sh"
. "$TESTS_DIR/cli/lib/token.sh"
. "$TESTS_DIR/cli/lib/serve.sh"

softhsm_token avow-ui
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
    echo "SKIP: chromium not installed (scripts/deps test installs it)"
    exit 77
fi
# chromium_run ARGS...: headless, no sandbox as root, a profile of its own in $T.
chromium_run() {
    timeout 60 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --no-first-run --disable-extensions --user-data-dir="$T/chromium" --hide-scrollbars \
        "$@" 2>>"$T/chromium.err"
}
if ! chromium_run --dump-dom "data:text/html,<p>ok</p>" >"$T/probe.html" ||
    ! grep -q '<p>ok</p>' "$T/probe.html"; then
    tail -n 5 "$T/chromium.err" >&2 || true
    echo "SKIP: chromium cannot run here"
    exit 77
fi

P11="-pkcs11-module $MOD -pin-source env:AVOW_TEST_PIN"

make_ca
make_ak ak ec256
expect_rc 0 "$AVOW" keygen $P11 -token-uri "$TOK;object=dev" -id d1 -pubout "$T/dev.pub"
expect_rc 0 "$AVOW" keygen $P11 -token-uri "$TOK;object=loose" -id d2 -extractable -pubout "$T/loose.pub"
CA="$T/ca"
expect_rc 0 "$AVOW" ca init -dir "$CA" -subject "CN=avow ui test CA"
cat >"$T/serve.json" <<JSON
{"ca": "$CA", "plain_http": true, "anchors": ["$T/root.pem"], "store": "sqlite"}
JSON
start_server "$T/serve.json"
alive

# The empty page first.
http GET /ui
expect_status 200
grep -qi '^content-type: text/html; charset=utf-8' "$T/hdr" || fail "/ui media type"
grep -q 'No enrolments yet' "$T/body" || fail "empty page"
http POST /ui
expect_status 405

# enrol KEY SUBJECT OUT: nonce, Evidence about the token key, attested CSR, simpleenroll
enrol() {
    http POST /.well-known/est/nonce -H 'Content-Type: application/est-attestation-freshness+json' \
        --data '{"len": 32}'
    expect_status 200
    n=$(b64url_hex "$(jq -r .nonce "$T/body")")
    expect_rc 0 "$AVOW" evidence create $P11 -attest-key "$TOK;object=$1" -nonce "$n" \
        -signkey "$T/ak.key" -signcert "$T/ak.pem" -out "$T/$3.ev"
    expect_rc 0 "$AVOW" csr create $P11 -key "$TOK;object=$1" -subject "$2" \
        -evidence "$T/$3.ev" -chain "$T/int.pem" -out "$T/$3.pem"
    openssl req -in "$T/$3.pem" -outform DER | base64 >"$T/$3.b64"
    http POST /.well-known/est/simpleenroll -H 'Content-Type: application/pkcs10' \
        --data-binary "@$T/$3.b64"
}
enrol dev "CN=good device,O=avow test" good
expect_status 200
base64 -d "$T/body" | openssl pkcs7 -inform DER -print_certs -out "$T/good.crt" 2>/dev/null ||
    fail "enrol CMS"
SN=$(openssl x509 -in "$T/good.crt" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f')
GOOD_SPKI=$(openssl pkey -pubin -in "$T/dev.pub" -outform DER | openssl dgst -sha256 -r | cut -c1-16)
sleep 1 # the refused row is the newer one, by a whole second
# The subject carries markup: the page must show it as text.
enrol loose "CN=\\<b id=x\\>loose\\</b\\> & co,O=avow test" loose
expect_status 403
jq -e '.rule | length > 0' "$T/body" >/dev/null || fail "no failed rule in the problem"
RULE=$(jq -r .rule "$T/body")
LOOSE_SPKI=$(openssl pkey -pubin -in "$T/loose.pub" -outform DER | openssl dgst -sha256 -r | cut -c1-16)

# What the service sends: escaped, no script.
http GET /ui
expect_status 200
cp "$T/body" "$T/ui.html"
grep -q '&lt;b id=x\\&gt;loose\\&lt;/b\\&gt; &amp; co' "$T/ui.html" || fail "the subject is not escaped"
if grep -qi '<script' "$T/ui.html"; then fail "the page has a script"; fi

# What Chromium renders: the DOM after parsing, one row per enrolment.
chromium_run --dump-dom "$BASE/ui" >"$T/dom.html" || { cat "$T/chromium.err" >&2; fail "chromium --dump-dom"; }
# rows: the <tr> elements of the table body, one per line
tr -d '\n' <"$T/dom.html" | sed 's/<tr/\n<tr/g' | grep '^<tr class=' >"$T/rows" || true
[ "$(wc -l <"$T/rows")" -eq 2 ] || { cat "$T/dom.html"; fail "want 2 rows in the DOM"; }
head -n 1 "$T/rows" >"$T/row.refused"
sed -n 2p "$T/rows" >"$T/row.issued"
grep -q 'class="contraindicated"' "$T/row.refused" || fail "the newest row is not contraindicated"
grep -q '<span class="badge">contraindicated</span>' "$T/row.refused" || fail "refused tier"
grep -qF "rule $RULE" "$T/row.refused" || fail "the refused row does not name rule $RULE"
grep -q "$LOOSE_SPKI" "$T/row.refused" || fail "the refused row's key"
grep -q 'AVOW_ERR_NOT_AFFIRMING' "$T/row.refused" || fail "the refused row's outcome"
grep -q 'b id=x.*gt;loose' "$T/row.refused" || fail "the refused row's subject"
grep -q 'id="x"' "$T/dom.html" && fail "the subject became markup"
grep -q 'class="affirming"' "$T/row.issued" || fail "the older row is not affirming"
grep -q '<span class="badge">affirming</span>' "$T/row.issued" || fail "issued tier"
grep -q "CN=good device" "$T/row.issued" || fail "the issued row's subject"
grep -q "<code>$SN</code>" "$T/row.issued" || fail "the issued row's serial $SN"
grep -q "$GOOD_SPKI" "$T/row.issued" || fail "the issued row's key"

# The screenshot: a PNG of the window's size with more than a few colours in it.
chromium_run --screenshot="$T/ui.png" --window-size=1400,500 "$BASE/ui" >/dev/null ||
    { cat "$T/chromium.err" >&2; fail "chromium --screenshot"; }
[ -s "$T/ui.png" ] || fail "no screenshot"
cp "$T/ui.png" "$PWD/serve_ui.png" 2>/dev/null || true
python3 - "$T/ui.png" <<'PY' || fail "the screenshot is trivial"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w, h = 8, b"", 0, 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype in (2, 6), "unexpected PNG format"
        bpp = 3 if ctype == 2 else 4
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
assert (w, h) == (1400, 500), "size %dx%d" % (w, h)
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
colours = {}
red = green = 0
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        px = bytes(line[x:x + 3])
        colours[px] = colours.get(px, 0) + 1
        if px == b"\xc6\x28\x28": red += 1    # the contraindicated badge (#c62828)
        if px == b"\x2e\x7d\x32": green += 1  # the affirming badge (#2e7d32)
    prev = line
assert len(colours) > 20, "only %d colours" % len(colours)
assert red > 50 and green > 50, "badges: red %d green %d pixels" % (red, green)
PY
alive
stop_server_clean
