"""End to end: a feed fetched over HTTPS with its own CA file and a client
certificate (intel.feeds ca_file, client_cert, client_key; issue 20,
docs/intel.md "Feeds by URL").

The test makes a CA, a server certificate for 127.0.0.1 and a client
certificate with certtool (gnutls-bin, in dev.sh's TEST_PKGS), and starts
an HTTPS server (Python's ssl) that trusts only that CA for client
certificates and refuses a handshake without one.  The daemon lists four
feeds of the same CSV:

- `good`: ca_file and the client certificate and key: fetched, imported,
  and the feed's C2 address matched (a firewall line raises the intel
  alert);
- `nocert`: the CA file but no client certificate: the server refuses the
  handshake; the feed fails, logged with why, nothing imported;
- `noca`: the client certificate but not the CA file: the server's
  certificate does not chain to the system's CAs, so the fetch fails;
- `wrongca`: a CA file holding another CA: the same refusal.

And `hikeshi run -n` refuses a ca_file on an http:// URL, a relative path,
and a client_key without client_cert, naming the key.
"""

import http.server
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(__file__))
from harness import (BIN, DAEMON_SOURCE, SOURCE_RULES_YAML, Daemon, check,  # noqa: E402
                      fields, finish, skip, syslog_stamp, wait_for)

C2 = "185.220.101.61"

TEMPLATES = {
    "ca": 'cn = "hikeshi e2e feed CA"\nca\ncert_signing_key\nexpiration_days = 30\n',
    "other-ca": 'cn = "some other CA"\nca\ncert_signing_key\nexpiration_days = 30\n',
    "server": 'cn = "127.0.0.1"\nip_address = "127.0.0.1"\ntls_www_server\n'
              'expiration_days = 30\n',
    "client": 'cn = "hikeshi feed client"\ntls_www_client\nexpiration_days = 30\n',
}


def certtool(*args):
    r = subprocess.run(["certtool"] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("certtool %s: %s" % (" ".join(args), r.stderr))


def make_certs(d):
    p = lambda n, e: os.path.join(d, n + "." + e)  # noqa: E731
    for name, t in TEMPLATES.items():
        with open(p(name, "tmpl"), "w") as f:
            f.write(t)
        certtool("--generate-privkey", "--key-type=ecdsa", "--outfile", p(name, "key"))
    for ca in ("ca", "other-ca"):
        certtool("--generate-self-signed", "--load-privkey", p(ca, "key"), "--template",
                 p(ca, "tmpl"), "--outfile", p(ca, "pem"))
    for n in ("server", "client"):
        certtool("--generate-certificate", "--load-privkey", p(n, "key"), "--load-ca-certificate",
                 p("ca", "pem"), "--load-ca-privkey", p("ca", "key"), "--template", p(n, "tmpl"),
                 "--outfile", p(n, "pem"))
    # The daemon started as root reads them as its unprivileged user.
    for f in os.listdir(d):
        os.chmod(os.path.join(d, f), 0o644)
    return p


class Served:
    def __init__(self):
        self.lock = threading.Lock()
        self.gets = 0


SERVED = Served()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        body = ("# C2\n%s\n" % C2).encode()
        with SERVED.lock:
            SERVED.gets += 1
        if self.path != "/list.csv":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class TLSServer(http.server.ThreadingHTTPServer):
    """Wraps each accepted connection; a failed handshake drops that
    connection only."""

    def __init__(self, addr, handler, ctx):
        super().__init__(addr, handler)
        self.ctx = ctx
        self.refused = 0

    def get_request(self):
        sock, addr = self.socket.accept()
        sock.settimeout(10)
        try:
            return self.ctx.wrap_socket(sock, server_side=True), addr
        except (ssl.SSLError, OSError):
            with SERVED.lock:
                self.refused += 1
            sock.close()
            raise


YAML = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: fw
    type: syslog-udp
    listen: 127.0.0.1:{port}
intel:
  feeds:
    - name: good
      url: https://127.0.0.1:%(srv)d/list.csv
      format: csv
      interval: 1h
      ca_file: %(ca)s
      client_cert: %(cert)s
      client_key: %(key)s
    - name: nocert
      url: https://127.0.0.1:%(srv)d/list.csv
      format: csv
      interval: 1h
      ca_file: %(ca)s
    - name: noca
      url: https://127.0.0.1:%(srv)d/list.csv
      format: csv
      interval: 1h
      client_cert: %(cert)s
      client_key: %(key)s
    - name: wrongca
      url: https://127.0.0.1:%(srv)d/list.csv
      format: csv
      interval: 1h
      ca_file: %(other)s
      client_cert: %(cert)s
      client_key: %(key)s
"""


def ufw_line(src, dst):
    return ("<4>%s fw01 kernel: [2017913.737300] [UFW BLOCK] IN=eth1 OUT=eth0 "
            "MAC=52:54:00:40:06:06:00:1b:21:7f:10:c2:08:00 SRC=%s DST=%s LEN=60 TOS=0x00 "
            "PREC=0x00 TTL=63 ID=26624 DF PROTO=TCP SPT=49986 DPT=443 WINDOW=64240 RES=0x00 "
            "SYN URGP=0" % (syslog_stamp(), src, dst))


def fetches(d, feed, result):
    try:
        _, _, text = d.get("/metrics")
    except OSError:
        return None
    return d.metric(text, "hikeshi_intel_feed_fetches_total",
                    'feed="%s",result="%s"' % (feed, result))


def config_error(text):
    """`hikeshi run -n` on a configuration: (exit code, its output)."""
    d = tempfile.mkdtemp(prefix="hikeshi-e2e-tlscfg-")
    conf = os.path.join(d, "hikeshi.yaml")
    with open(conf, "w") as f:
        f.write("data_dir: %s\nintel:\n  feeds:\n%s" % (os.path.join(d, "var"), text) +
                SOURCE_RULES_YAML.format(src=DAEMON_SOURCE))
    r = subprocess.run([BIN, "run", "-n", "-c", conf], capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def main():
    if subprocess.run(["sh", "-c", "command -v certtool"], capture_output=True).returncode:
        skip("certtool (gnutls-bin) is not installed")
    certs = tempfile.mkdtemp(prefix="hikeshi-e2e-feedtls-")
    os.chmod(certs, 0o755)
    p = make_certs(certs)

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(p("server", "pem"), p("server", "key"))
    ctx.load_verify_locations(p("ca", "pem"))
    ctx.verify_mode = ssl.CERT_REQUIRED  # no client certificate: no handshake
    srv = TLSServer(("127.0.0.1", 0), Handler, ctx)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = srv.server_address[1]

    d = Daemon(YAML % {"srv": port, "ca": p("ca", "pem"), "cert": p("client", "pem"),
                       "key": p("client", "key"), "other": p("other-ca", "pem")})
    d.start()
    check(wait_for(lambda: "intel feed good: 1 indicators imported (csv" in d.read_log(), 20),
          "the feed with its CA file and client certificate is fetched over HTTPS and imported")
    check(wait_for(lambda: all(fetches(d, f, "failed") == 1
                               for f in ("nocert", "noca", "wrongca")), 20),
          "the three other feeds fail once each (interval 1h)")
    log = d.read_log()
    for f in ("nocert", "noca", "wrongca"):
        line = next((x for x in log.splitlines() if "intel feed %s: " % f in x), "")
        check("https://127.0.0.1:%d/list.csv" % port in line and
              "keeping the indicators held" in line,
              "feed %s's failure is logged with the URL: %s" % (f, line.strip()))
        check(fetches(d, f, "updated") == 0, "feed %s imported nothing" % f)
    for f in ("noca", "wrongca"):
        line = next((x for x in log.splitlines() if "intel feed %s: " % f in x), "")
        check("certificate" in line.lower() or "issuer" in line.lower(),
              "feed %s: the server's certificate is not trusted, said so: %s" % (f, line.strip()))
    with SERVED.lock:
        gets = SERVED.gets
    check(gets == 1, "only the feed with a client certificate and the right CA got an answer "
          "(%d GETs served)" % gets)
    check(srv.refused >= 1, "the server refused the handshake without a client certificate "
          "(%d refused)" % srv.refused)
    check(fetches(d, "good", "updated") == 1, "the good feed is counted updated")

    # The imported C2 address is matched: the matcher was reloaded.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(ufw_line("10.0.1.50", C2).encode(), ("127.0.0.1", d.port))
    s.close()

    def intel_alert():
        return any(fields(a).get("threat.indicator.value") == C2 and
                   fields(a).get("threat.indicator.provider") == "good" for a in d.alerts())
    check(wait_for(intel_alert, 15), "a firewall line to the C2 address raises the intel alert, "
          "provider good")
    check(d.stop() == 0, "the daemon stops cleanly")
    srv.shutdown()

    # Configuration errors, each naming the key.
    rc, out = config_error("    - {name: a, url: 'http://127.0.0.1:1/x', format: csv, "
                           "ca_file: /etc/ssl/certs/ca-certificates.crt}\n")
    check(rc != 0 and "ca_file, client_cert and client_key need an https:// url" in out,
          "a ca_file on an http:// url is refused: %s" % out.strip()[-160:])
    rc, out = config_error("    - {name: a, url: 'https://127.0.0.1:1/x', format: csv, "
                           "ca_file: certs/ca.pem}\n")
    check(rc != 0 and "intel.feeds ca_file: an absolute path" in out,
          "a relative ca_file is refused: %s" % out.strip()[-160:])
    rc, out = config_error("    - {name: a, url: 'https://127.0.0.1:1/x', format: csv, "
                           "client_key: /k.pem}\n")
    check(rc != 0 and "client_key needs client_cert" in out,
          "a client_key without client_cert is refused: %s" % out.strip()[-160:])
    rc, out = config_error("    - {name: a, url: 'https://127.0.0.1:1/x', format: csv, "
                           "ca_file: %s, client_cert: %s, client_key: %s}\n"
                           % (p("ca", "pem"), p("client", "pem"), p("client", "key")))
    check(rc == 0, "the same keys on an https:// url are accepted: %s" % out.strip()[-160:])
    finish()


if __name__ == "__main__":
    main()
