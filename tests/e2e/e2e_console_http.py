"""End to end, over a real socket and without a browser: what the web
console stands on.

- GET / and every file index.html names are served from the binary with
  the console's Content-Security-Policy and the framing/referrer headers;
  an ETag brings 304; an unknown file is 404, another method 405.
- Nothing the console is made of can break that policy: no inline script,
  no on* handler attributes, no style attributes in its HTML.
- Chart.js (from npm at build time) is compiled in.
- The session: POST /api/v1/session sets an HttpOnly, SameSite=Strict
  cookie; GET /api/v1/session tells who and the CSRF token; a change with
  the cookie but without the CSRF token is 403 and changes nothing, with it
  201; the Bearer header still works without one; logout clears the cookie
  and the old cookie is refused (401) from then on.
- API answers carry their own sandboxing policy."""

import html.parser
import http.client
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, SOURCE, Daemon, check, finish  # noqa: E402

PW = "correct horse battery staple"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")


def request(d, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", d.http, timeout=10)
    h = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    out = (r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    c.close()
    return out


class Refs(html.parser.HTMLParser):
    """The files a page loads, and what a strict CSP would refuse in it."""

    def __init__(self):
        super().__init__()
        self.refs, self.bad = [], []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in a:
            if k.startswith("on"):
                self.bad.append("<%s %s=...> handler attribute" % (tag, k))
        if "style" in a:
            self.bad.append("<%s style=...> attribute" % tag)
        if tag == "script":
            self.in_script = True
            if a.get("src"):
                self.refs.append(a["src"])
        if tag == "link" and a.get("href"):
            self.refs.append(a["href"])
        if tag == "style":
            self.bad.append("<style> element")

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = False

    def handle_data(self, data):
        if self.in_script and data.strip():
            self.bad.append("inline script: %r" % data.strip()[:40])


def main():
    d = Daemon()
    d.start()
    try:
        run(d)
    finally:
        d.stop()
    finish()


def run(d):
    st, h, body = request(d, "GET", "/")
    check(st == 200 and h.get("content-type", "").startswith("text/html"),
          "GET / is the console's page (%s %s)" % (st, h.get("content-type")))
    check(h.get("content-security-policy") == CSP, "the page carries the console's CSP")
    check(h.get("x-frame-options") == "DENY" and h.get("referrer-policy") == "no-referrer"
          and h.get("x-content-type-options") == "nosniff",
          "the page may not be framed, sniffed or leak its URL")
    etag = h.get("etag")
    st2, _, b2 = request(d, "GET", "/", headers={"If-None-Match": etag or "x"})
    check(etag and st2 == 304 and b2 == b"", "the ETag brings 304 Not Modified (%s)" % st2)
    page = Refs()
    page.feed(body.decode())
    check(not page.bad, "index.html has nothing the CSP refuses: %s" % (page.bad or "none"))
    check(len(page.refs) >= 2, "index.html loads its script and style (%s)" % page.refs)
    for ref in page.refs:
        st, h, b = request(d, "GET", ref)
        check(st == 200 and h.get("content-security-policy") == CSP,
              "%s (named by index.html) is served (%s, %s)" % (ref, st, h.get("content-type")))
    st, h, b = request(d, "GET", "/ui/vendor/chart.umd.js")
    check(st == 200 and h.get("content-type", "").startswith("text/javascript") and
          b"Chart" in b[:4096] and len(b) > 100000,
          "Chart.js is compiled in (%s, %d bytes)" % (st, len(b)))
    # Every file of web/ is served as it is in the tree, and our own
    # scripts never turn data into markup or code.
    web = os.path.join(SOURCE, "web")
    files = subprocess.run([sys.executable, os.path.join(SOURCE, "tools", "embed_web.py"),
                            "--list", web], capture_output=True, text=True,
                           check=True).stdout.split()
    check(len(files) >= 5, "web/ holds the console's files (%d)" % len(files))
    for f in files:
        st, h, b = request(d, "GET", "/ui/" + f)
        with open(os.path.join(web, f), "rb") as fp:
            same = fp.read() == b
        check(st == 200 and same, "/ui/%s is served as web/%s has it" % (f, f))
        if f.endswith(".js"):
            check(not re.search(rb"\.innerHTML\s*=|\.outerHTML\s*=|insertAdjacentHTML|"
                                rb"document\.write|\beval\(|new Function\(", b),
                  "web/%s builds no markup from strings and runs no strings" % f)
        if f.endswith(".html"):
            p = Refs()
            p.feed(b.decode())
            check(not p.bad, "web/%s has nothing the CSP refuses: %s" % (f, p.bad or "none"))
    check(request(d, "GET", "/ui/nope.js")[0] == 404, "an unknown console file is 404")
    check(request(d, "POST", "/")[0] == 405, "the console's files are read-only (405)")

    # The session.
    r = subprocess.run([BIN, "user", "add", "-c", d.conf, "--role", "analyst",
                        "--password-stdin", "alice"], input=PW + "\n", capture_output=True,
                       text=True)
    tok = [l.split(": ", 1)[1] for l in r.stdout.splitlines() if l.startswith("token: ")]
    check(r.returncode == 0 and tok, "user add alice with a password")
    st, h, b = request(d, "POST", "/api/v1/session", {"name": "alice", "password": "wrong" * 4})
    check(st == 401 and "set-cookie" not in h, "a wrong password gets no cookie (%s)" % st)
    st, h, b = request(d, "POST", "/api/v1/session", {"name": "alice", "password": PW})
    sess = json.loads(b) if st == 201 else {}
    cookie = h.get("set-cookie", "")
    check(st == 201 and cookie.startswith("hikeshi_session=hks_"), "log in: a session cookie")
    check("HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie,
          "the cookie is HttpOnly and SameSite=Strict (%s)" % re.sub(r"hks_\w+", "hks_…", cookie))
    check(h.get("content-security-policy", "").startswith("default-src 'none'") and
          "sandbox" in h.get("content-security-policy", ""), "API answers are sandboxed")
    jar = {"Cookie": cookie.split(";", 1)[0]}
    st, _, b = request(d, "GET", "/api/v1/session", headers=jar)
    me = json.loads(b) if st == 200 else {}
    check(st == 200 and me.get("user") == "alice" and me.get("role") == "analyst" and
          me.get("csrf") == sess.get("csrf") and me.get("csrf"),
          "GET /api/v1/session: alice, analyst, the same CSRF token")
    st, _, b = request(d, "POST", "/api/v1/incidents", {"title": "forged"}, headers=jar)
    check(st == 403 and b"CSRF" in b, "a change with the cookie alone is refused (%s)" % st)
    st, _, b = request(d, "GET", "/api/v1/incidents", headers=jar)
    check(st == 200 and json.loads(b)["count"] == 0, "and nothing was made")
    st, _, b = request(d, "POST", "/api/v1/incidents", {"title": "from the console"},
                       headers=dict(jar, **{"X-CSRF-Token": me.get("csrf", "")}))
    check(st == 201, "with the CSRF token it is made (%s)" % st)
    st, _, _ = request(d, "POST", "/api/v1/incidents", {"title": "by script"},
                       headers={"Authorization": "Bearer " + (tok[0] if tok else "")})
    check(st == 201, "a Bearer token needs no CSRF token (%s)" % st)
    st, h, _ = request(d, "DELETE", "/api/v1/session",
                       headers=dict(jar, **{"X-CSRF-Token": me.get("csrf", "")}))
    check(st == 200 and "Max-Age=0" in h.get("set-cookie", ""), "logout clears the cookie")
    st, _, b = request(d, "GET", "/api/v1/incidents", headers=jar)
    check(st == 401, "the old cookie is refused after logout (%s)" % st)


if __name__ == "__main__":
    main()
