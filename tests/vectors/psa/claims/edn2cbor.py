# Converts the subset of CBOR diagnostic notation the PSA claims files use
# (maps, arrays, integers, "text", h'hex' with line folds, / comments /) to
# CBOR in preferred (shortest) form, keeping map order. Written for avow's
# tests; usage: python3 edn2cbor.py FILE.diag > FILE.cbor
import re, sys
def head(major, n):
    if n < 24: return bytes([major<<5 | n])
    for ai, w in ((24,1),(25,2),(26,4),(27,8)):
        if n < (1 << (8*w)): return bytes([major<<5 | ai]) + n.to_bytes(w, 'big')
def enc_int(v):
    return head(0, v) if v >= 0 else head(1, -1 - v)
def parse(s):
    # strings first, so that a "/" inside one is not taken for a comment
    toks = re.findall(r"h'[^']*'|\"[^\"]*\"|/[^/]*/|-?\d+|[{}\[\]:,]", s, re.S)
    toks = [t for t in toks if not t.startswith("/")]
    pos = 0
    def val():
        nonlocal pos
        t = toks[pos]; pos += 1
        if t == '{':
            items = []
            while toks[pos] != '}':
                k = val(); assert toks[pos] == ':'; pos += 1
                v = val(); items.append((k, v))
                if toks[pos] == ',': pos += 1
            pos += 1
            return head(5, len(items)) + b''.join(k + v for k, v in items)
        if t == '[':
            items = []
            while toks[pos] != ']':
                items.append(val())
                if toks[pos] == ',': pos += 1
            pos += 1
            return head(4, len(items)) + b''.join(items)
        if t.startswith("h'"):
            b = bytes.fromhex(re.sub(r"\s", "", t[2:-1])); return head(2, len(b)) + b
        if t.startswith('"'):
            b = re.sub(r"\s*\n\s*", "", t[1:-1]).encode(); return head(3, len(b)) + b
        return enc_int(int(t))
    out = val()
    assert pos == len(toks)
    return out
sys.stdout.buffer.write(parse(open(sys.argv[1]).read()))
