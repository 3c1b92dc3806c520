"""End to end: the HTTP endpoint's edge against an attacker on the network
(issue 15), on the real daemon over real sockets.

- rate limits are keyed by the client's address, not address and port: a
  new connection per guess still gets 429 on the 11th wrong password, and
  the API bucket (200 at once, then 50 a second) still runs out; another
  address keeps its own buckets;
- the Host header: a name the endpoint was not configured for (DNS
  rebinding) gets 421 before any route, login, health, /metrics and the
  console included; configured names and the loopback names pass;
- slowloris: 80 connections trickling their headers from ten loopback
  addresses, and 40 from one address beyond its cap, do not stop a health
  probe from another address; the trickling ones are closed at the request
  deadline although they are never silent (the idle timeout alone would
  keep them);
- HTTPS: `http.tls: true` on loopback makes a self-signed certificate in
  data_dir (key 0600, the hosts as subjectAltNames, a year), reused on
  restart; Python's ssl verifies the server against it; HSTS on answers
  and `Secure` on the session cookie; no clear text on that port;
- off loopback (0.0.0.0): HTTPS by default; `http.tls: false` is refused
  with an error naming http.insecure_cleartext, and starts with it.
"""

import http.client
import json
import os
import select
import socket
import ssl
import stat
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, Daemon, check, finish, free_port, wait_for  # noqa: E402

USER, PASSWORD = "alice", "alice's long passphrase"

BASE = """
data_dir: {data}
timezone: UTC
http:
  listen: 127.0.0.1:{http}
%s
sigma:
  rules: [{src}/rules]
  mappings: {src}/rules/config
triage:
  config: {src}/rules/config/triage.yaml
inputs: []
"""


class _Https(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1 from `src`, the certificate checked against `name`."""

    def __init__(self, name, port, src, ctx, timeout):
        super().__init__(name, port, timeout=timeout, context=ctx)
        self._src = src

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout, (self._src, 0))
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def request(d, method, path, body=None, src="127.0.0.1", host=None, ctx=None,
            server_hostname="localhost", timeout=10):
    """One request on a new connection from `src`; (status, headers, body)."""
    if ctx:
        conn = _Https(server_hostname, d.http, src, ctx, timeout)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", d.http, timeout=timeout,
                                          source_address=(src, 0))
    headers = {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        conn.putrequest(method, path, skip_host=host is not None)
        if host is not None:
            conn.putheader("Host", host)
        for k, v in headers.items():
            conn.putheader(k, v)
        if data is not None:
            conn.putheader("Content-Length", str(len(data)))
        conn.endheaders(data)
        r = conn.getresponse()
        return r.status, r.headers, r.read()
    finally:
        conn.close()


def daemon(extra, conf=None):
    """A daemon whose temp dir lets the user it drops to through."""
    d = Daemon((conf or BASE) % extra)
    os.chmod(d.dir, 0o711)
    return d


def user_add(d):
    """Adds the admin; returns its API token."""
    r = subprocess.run([BIN, "user", "add", "-c", d.conf, "--role", "admin",
                        "--password-stdin", USER], input=PASSWORD + "\n",
                       capture_output=True, text=True)
    check(r.returncode == 0, "hikeshi user add %s (%s)" % (USER, r.stderr.strip()))
    tok = [l.split(": ", 1)[1] for l in r.stdout.splitlines() if l.startswith("token: ")]
    return tok[0] if tok else ""


# ------------------------------------------------------------ rate limits

def rate_limits():
    d = daemon("")
    user_add(d)
    d.start()
    try:
        codes = [request(d, "POST", "/api/v1/login", {"name": USER, "password": "wrong %d" % i})[0]
                 for i in range(11)]
        check(codes[:10] == [401] * 10,
              "10 wrong passwords, each on a new connection: 401 each (%s)" % codes[:10])
        check(codes[10] == 429, "the 11th wrong password on a new connection: 429 (%s)"
              % codes[10])
        st = request(d, "POST", "/api/v1/login", {"name": USER, "password": PASSWORD})[0]
        check(st == 429, "the right password too waits once the bucket is empty (%s)" % st)
        st = request(d, "POST", "/api/v1/login", {"name": USER, "password": "wrong"},
                     src="127.0.0.2")[0]
        check(st == 401, "another address keeps its own login bucket: 401, not 429 (%s)" % st)
        st = request(d, "POST", "/api/v1/session", {"name": USER, "password": PASSWORD},
                     src="127.0.0.2")[0]
        check(st in (200, 201), "and logs in from there (%s)" % st)

        # The API bucket: 200 at once, then 50 a second, per address; 600
        # requests from six threads, each on a new connection.
        codes = []
        lock = threading.Lock()

        def burst():
            for _ in range(100):
                st = request(d, "GET", "/api/v1/health", src="127.0.0.3")[0]
                with lock:
                    codes.append(st)
        t0 = time.time()
        threads = [threading.Thread(target=burst) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.time() - t0
        n200, n429 = codes.count(200), codes.count(429)
        most_ok = 200 + int(50 * took) + 2
        check(n200 + n429 == 600 and n200 >= 200,
              "600 API requests on new connections: 200 or 429 each, the burst of 200 passes "
              "(%d, %d)" % (n200, n429))
        check(n200 <= most_ok and n429 > 0,
              "in %.1f s %d refused with 429 (at most %d may pass)" % (took, n429, most_ok))
        st = request(d, "GET", "/api/v1/health", src="127.0.0.4")[0]
        check(st == 200, "meanwhile another address is served (%s)" % st)
    finally:
        check(d.stop() == 0, "rate limits: SIGTERM exits 0")


# ------------------------------------------------------------ Host header

def host_header():
    d = daemon("  hosts: [hikeshi.example.org]")
    user_add(d)
    d.start()
    try:
        for path, method, body in (("/api/v1/health", "GET", None), ("/metrics", "GET", None),
                                   ("/", "GET", None),
                                   ("/api/v1/login", "POST",
                                    {"name": USER, "password": PASSWORD})):
            st, _, raw = request(d, method, path, body, host="rebound.attacker.example:%d"
                                 % d.http)
            check(st == 421, "Host rebound.attacker.example: %s %s gets 421 (%s %s)"
                  % (method, path, st, raw[:80]))
        st = request(d, "POST", "/api/v1/login", {"name": USER, "password": PASSWORD},
                     host="rebound.attacker.example")[0]
        check(st == 421, "a right password under a foreign Host is refused too (%s)" % st)
        for name in ("127.0.0.1:%d" % d.http, "localhost:%d" % d.http, "localhost",
                     "[::1]:%d" % d.http, "hikeshi.example.org:%d" % d.http,
                     "HIKESHI.Example.org.", "hikeshi.example.org"):
            st = request(d, "GET", "/api/v1/health", host=name)[0]
            check(st == 200, "Host %s: 200 (%s)" % (name, st))
        for name in ("hikeshi.example.org.attacker.example", "127.0.0.2", "[::2]", "",
                     "localhost.attacker.example"):
            st = request(d, "GET", "/metrics", host=name)[0]
            check(st == 421, "Host %r: 421 (%s)" % (name, st))
    finally:
        check(d.stop() == 0, "Host header: SIGTERM exits 0")


# ------------------------------------------------------------ slowloris

def open_trickle(src, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    return s


def closed(s):
    """1 when the server has closed `s` (EOF or reset), 0 if still open."""
    try:
        r, _, _ = select.select([s], [], [], 0)
        if not r:
            return 0
        return 1 if s.recv(4096) == b"" else 0
    except (ConnectionResetError, BrokenPipeError, OSError):
        return 1


def slowloris():
    # The idle timeout is far beyond the test: only the request deadline
    # can close a connection that sends a byte a second.
    d = daemon("  idle_timeout: 120\n  request_timeout: 4\n  max_per_address: 16")
    d.start()
    head = b"GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 4000
    stop = threading.Event()
    socks = []
    greedy = []
    try:
        for a in range(2, 12):
            for _ in range(8):
                socks.append(open_trickle("127.0.0.%d" % a, d.http))
        for _ in range(40):
            try:
                greedy.append(open_trickle("127.0.0.12", d.http))
            except OSError:
                pass

        def trickle():
            i = 0
            while not stop.is_set() and i < len(head):
                for s in socks + greedy:
                    try:
                        s.send(head[i:i + 1])
                    except OSError:
                        pass
                i += 1
                stop.wait(1.0)
        t = threading.Thread(target=trickle, daemon=True)
        t.start()
        time.sleep(1.5)
        refused = sum(closed(s) for s in greedy)
        check(refused >= 40 - 16,
              "one address past its cap of 16: %d of its 40 connections closed at once"
              % refused)
        open_slow = sum(1 - closed(s) for s in socks)
        check(open_slow == 80, "80 trickling connections from 10 addresses are open (%d)"
              % open_slow)
        answers = []
        for _ in range(3):
            t0 = time.time()
            try:
                st = request(d, "GET", "/api/v1/health", timeout=20)[0]
            except OSError as e:
                st = str(e)
            answers.append((st, round(time.time() - t0, 2)))
            time.sleep(0.3)
        check(all(a[0] == 200 for a in answers),
              "health probes from another address answer meanwhile: %s" % answers)
        t_open = time.time()
        gone = wait_for(lambda: all(closed(s) for s in socks), timeout=15)
        check(gone, "every trickling connection is closed at the request deadline of 4 s "
              "(%d still open %.1f s later)" % (sum(1 - closed(s) for s in socks),
                                                time.time() - t_open))
        st = request(d, "GET", "/api/v1/health", src="127.0.0.2")[0]
        check(st == 200, "a trickling address is served again with a whole request (%s)" % st)
    finally:
        stop.set()
        for s in socks + greedy:
            s.close()
        check(d.stop() == 0, "slowloris: SIGTERM exits 0")


# ------------------------------------------------------------ HTTPS

def cert_info(path):
    return ssl._ssl._test_decode_cert(path)


def https_loopback():
    d = daemon("  tls: true\n  hosts: [hikeshi.example.org]")
    token = user_add(d)
    d.start()
    crt = os.path.join(d.data, "http.crt")
    key = os.path.join(d.data, "http.key")
    try:
        check(os.path.isfile(crt) and os.path.isfile(key),
              "tls: true without a pair: a self-signed one is made in data_dir")
        mode = stat.S_IMODE(os.stat(key).st_mode) if os.path.exists(key) else None
        check(mode == 0o600, "the key is 0600 (%s)" % (oct(mode) if mode is not None else None))
        info = cert_info(crt)
        san = info.get("subjectAltName", ())
        check(("DNS", "hikeshi.example.org") in san and ("DNS", "localhost") in san
              and ("IP Address", "127.0.0.1") in san,
              "its subjectAltNames are the hosts: %s" % (san,))
        days = (ssl.cert_time_to_seconds(info["notAfter"]) - time.time()) / 86400
        check(360 < days <= 366, "valid for a year (%.0f days left)" % days)
        ctx = ssl.create_default_context(cafile=crt)
        st, hdr, raw = request(d, "GET", "/api/v1/health", ctx=ctx,
                               server_hostname="localhost")
        check(st == 200, "HTTPS GET /api/v1/health verified against the certificate: %s" % st)
        check((hdr.get("Strict-Transport-Security") or "").startswith("max-age="),
              "HSTS on the answer (%s)" % hdr.get("Strict-Transport-Security"))
        st, hdr, _ = request(d, "GET", "/", ctx=ctx, server_hostname="hikeshi.example.org",
                             host="hikeshi.example.org")
        check(st == 200 and hdr.get("Strict-Transport-Security"),
              "the console over HTTPS as hikeshi.example.org, with HSTS (%s)" % st)
        st, hdr, _ = request(d, "POST", "/api/v1/session", {"name": USER, "password": PASSWORD},
                             ctx=ctx, server_hostname="localhost")
        cookie = hdr.get("Set-Cookie") or ""
        check(st in (200, 201) and "; Secure" in cookie and "HttpOnly" in cookie,
              "the session cookie is Secure over HTTPS (%s: %s)" % (st, cookie.split(";", 1)[-1]))
        try:
            st = request(d, "GET", "/api/v1/health", timeout=5)[0]
        except (OSError, http.client.HTTPException) as e:
            st = type(e).__name__
        check(st != 200, "no clear-text answer on the HTTPS port (%s)" % st)
        other = ssl.create_default_context()
        try:
            request(d, "GET", "/api/v1/health", ctx=other, server_hostname="localhost")
            ok = False
        except ssl.SSLCertVerificationError:
            ok = True
        check(ok, "a client that does not trust the certificate refuses it")
        # The command line finds the daemon over HTTPS from the same file.
        r = subprocess.run([BIN, "incident", "list", "-c", d.conf], capture_output=True,
                           text=True, env=dict(os.environ, HIKESHI_TOKEN=token))
        check(r.returncode == 0, "hikeshi incident list -c CONF goes over HTTPS, trusting "
              "DATA_DIR/http.crt (exit %d %s)" % (r.returncode, r.stderr.strip()))
        with open(crt, "rb") as f:
            first = f.read()
    finally:
        check(d.stop() == 0, "HTTPS: SIGTERM exits 0")
    # A fresh log, so that start() waits for this run's "ready".
    os.rename(d.log, d.log + ".1")
    d.start()
    try:
        with open(crt, "rb") as f:
            check(f.read() == first, "restarted, the daemon keeps its certificate")
        st = request(d, "GET", "/api/v1/health", ctx=ssl.create_default_context(cafile=crt),
                     server_hostname="localhost")[0]
        check(st == 200, "and serves HTTPS with it (%s)" % st)
    finally:
        check(d.stop() == 0, "HTTPS restart: SIGTERM exits 0")
    # HTTP on loopback stays the plain default: no certificate made.
    d2 = daemon("")
    d2.start()
    try:
        st = request(d2, "GET", "/api/v1/health")[0]
        check(st == 200 and not os.path.exists(os.path.join(d2.data, "http.crt")),
              "on loopback by default: plain HTTP, no certificate (%s)" % st)
    finally:
        d2.stop()


def off_loopback():
    conf = BASE.replace("127.0.0.1:{http}", "0.0.0.0:{http}")
    d = daemon(conf=conf, extra="  tls: false")
    try:
        d.start()
        started = True
    except RuntimeError:
        started = False
    log = d.read_log()
    check(not started and "insecure_cleartext" in log and "0.0.0.0" in log,
          "0.0.0.0 with tls: false is refused, naming http.insecure_cleartext: %s"
          % [l for l in log.splitlines() if "clear text" in l][:1])
    if started:
        d.stop()

    d = daemon(conf=conf, extra="")
    d.start()
    try:
        crt = os.path.join(d.data, "http.crt")
        check(os.path.isfile(crt), "0.0.0.0 by default: HTTPS with a self-signed certificate")
        st = request(d, "GET", "/api/v1/health", ctx=ssl.create_default_context(cafile=crt),
                     server_hostname="localhost")[0] if os.path.isfile(crt) else None
        check(st == 200, "and answers over HTTPS (%s)" % st)
        san = cert_info(crt).get("subjectAltName", ()) if os.path.isfile(crt) else ()
        check(("DNS", socket.gethostname().lower()) in san,
              "the certificate names the host (%s)" % socket.gethostname())
    finally:
        check(d.stop() == 0, "0.0.0.0 HTTPS: SIGTERM exits 0")

    d = daemon(conf=conf, extra="  tls: false\n  insecure_cleartext: true")
    d.start()
    try:
        st = request(d, "GET", "/api/v1/health")[0]
        check(st == 200 and "clear-text HTTP" in d.read_log(),
              "with insecure_cleartext: true it serves clear text, and warns (%s)" % st)
    finally:
        check(d.stop() == 0, "0.0.0.0 clear text: SIGTERM exits 0")


def main():
    rate_limits()
    host_header()
    slowloris()
    https_loopback()
    off_loopback()
    finish()


if __name__ == "__main__":
    main()
