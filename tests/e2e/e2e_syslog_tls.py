"""End to end: syslog over TLS (RFC 5425) from Debian's rsyslog, with
client certificates.

Certificates are made for the test with certtool (gnutls-bin): a CA, the
daemon's certificate, a relay's client certificate signed by the CA, and a
self-signed client certificate.  The daemon listens with two syslog-tls
inputs: `tls-ca` (trust: trusted) accepts clients whose certificate chains
to the CA, `tls-fp` accepts only the self-signed certificate's SHA-256
fingerprint.  rsyslogd runs as nobody in the foreground with its own
config, reading a unix socket that logger(1) writes to and forwarding with
omfwd over gtls (StreamDriverMode 1, x509/certvalid, octet-counted framing):

- with the CA-signed client certificate its record reaches tls-ca;
- with the self-signed one its record reaches tls-fp;
- without a client certificate it is refused (counted in
  input_denied_total, logged) and nothing arrives;
- a client certificate from the wrong side (the listed self-signed one
  against tls-ca, the CA-signed one against tls-fp) is refused too.

Needs rsyslog, rsyslog-gnutls and gnutls-bin (dev.sh TEST_PKGS); fails
saying so when they are missing.
"""

import hashlib
import os
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Daemon, check, finish, free_port, wait_for  # noqa: E402

RSYSLOGD = "/usr/sbin/rsyslogd"
GTLS = "/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so"

CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
sigma:
  rules: [{src}/rules]
  mappings: {src}/rules/config
inputs:
  - name: tls-ca
    type: syslog-tls
    listen: 127.0.0.1:%(ca_port)d
    trust: trusted
    tls:
      cert: %(dir)s/server.pem
      key: %(dir)s/server.key
      ca: %(dir)s/ca.pem
  - name: tls-fp
    type: syslog-tls
    listen: 127.0.0.1:%(fp_port)d
    tls:
      cert: %(dir)s/server.pem
      key: %(dir)s/server.key
      client_fingerprints: ["%(fpr)s"]
"""

TEMPLATES = {
    "ca": 'cn = "hikeshi e2e CA"\nca\ncert_signing_key\nexpiration_days = 30\n',
    "server": 'cn = "localhost"\ndns_name = "localhost"\nip_address = "127.0.0.1"\n'
              'tls_www_server\nexpiration_days = 30\n',
    "relay": 'cn = "relay.example"\ntls_www_client\nexpiration_days = 30\n',
    "selfsigned": 'cn = "lonely.example"\ntls_www_client\nexpiration_days = 30\n',
}


def certtool(*args):
    r = subprocess.run(["certtool"] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("certtool %s: %s" % (" ".join(args), r.stderr))


def make_certs(d):
    for name, t in TEMPLATES.items():
        with open(os.path.join(d, name + ".tmpl"), "w") as f:
            f.write(t)
        certtool("--generate-privkey", "--key-type=ecdsa", "--outfile", os.path.join(d, name + ".key"))
    p = lambda n, e: os.path.join(d, n + "." + e)  # noqa: E731
    certtool("--generate-self-signed", "--load-privkey", p("ca", "key"), "--template",
             p("ca", "tmpl"), "--outfile", p("ca", "pem"))
    certtool("--generate-self-signed", "--load-privkey", p("selfsigned", "key"), "--template",
             p("selfsigned", "tmpl"), "--outfile", p("selfsigned", "pem"))
    for n in ("server", "relay"):
        certtool("--generate-certificate", "--load-privkey", p(n, "key"), "--load-ca-certificate",
                 p("ca", "pem"), "--load-ca-privkey", p("ca", "key"), "--template", p(n, "tmpl"),
                 "--outfile", p(n, "pem"))
    # rsyslogd runs as nobody: test keys, readable.
    for f in os.listdir(d):
        os.chmod(os.path.join(d, f), 0o644)
    with open(p("selfsigned", "pem")) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return ":".join("%02X" % b for b in hashlib.sha256(der).digest())


class Rsyslog:
    """rsyslogd -n as nobody, reading a unix socket, forwarding over gtls."""

    def __init__(self, d, name, port, cert):
        self.dir = os.path.join(d, "rsyslog-" + name)
        os.mkdir(self.dir)
        os.chown(self.dir, 65534, 65534)
        self.sock = os.path.join(self.dir, "log.sock")
        self.pidfile = os.path.join(self.dir, "rsyslogd.pid")
        certs = ""
        if cert:
            certs = ('       DefaultNetstreamDriverCertFile="%s/%s.pem"\n'
                     '       DefaultNetstreamDriverKeyFile="%s/%s.key"\n' % (d, cert, d, cert))
        conf = os.path.join(self.dir, "rsyslog.conf")
        with open(conf, "w") as f:
            f.write('global(workDirectory="%s"\n'
                    '       DefaultNetstreamDriverCAFile="%s/ca.pem"\n%s)\n'
                    'module(load="imuxsock" SysSock.Use="off")\n'
                    'input(type="imuxsock" Socket="%s" CreatePath="on")\n'
                    'action(type="omfwd" target="127.0.0.1" port="%d" protocol="tcp"\n'
                    '       StreamDriver="gtls" StreamDriverMode="1"\n'
                    '       StreamDriverAuthMode="x509/certvalid"\n'
                    '       TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")\n'
                    % (self.dir, d, certs, self.sock, port))
        os.chmod(conf, 0o644)
        self.log = open(os.path.join(self.dir, "rsyslogd.out"), "wb")
        self.proc = subprocess.Popen(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", RSYSLOGD, "-n",
             "-f", conf, "-i", self.pidfile], stdout=self.log, stderr=subprocess.STDOUT)
        if not wait_for(lambda: os.path.exists(self.sock), timeout=10):
            raise RuntimeError("rsyslogd did not create its socket:\n" + self.output())

    def send(self, msg):
        r = subprocess.run(["logger", "-u", self.sock, "-t", "sshd", msg], capture_output=True,
                           text=True, timeout=10)
        check(r.returncode == 0, "logger into rsyslogd's socket (%s)" % r.stderr.strip())

    def output(self):
        with open(os.path.join(self.dir, "rsyslogd.out"), errors="replace") as f:
            return f.read()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def stored(d, input_name, tag):
    try:
        con = d.db()
        n = con.execute("SELECT count(*) FROM events WHERE input = ? AND "
                        "CAST(raw AS TEXT) LIKE ?", (input_name, "%marker=" + tag)).fetchone()[0]
        con.close()
        return n
    except Exception:  # the store may be busy or not yet created
        return 0


def metric(d, name, inp):
    _, _, text = d.get("/metrics")
    return d.metric(text, name, 'input="%s"' % inp) or 0


def ssh_line(tag):
    return "Failed password for root from 198.51.100.7 port 40000 ssh2 marker=" + tag


def python_client(port, d, cert):
    """A TLS client with `cert`; True when the daemon took a record from it
    (the connection stays up after sending), False when it was refused."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(os.path.join(d, "ca.pem"))
    ctx.check_hostname = False
    ctx.load_cert_chain(os.path.join(d, cert + ".pem"), os.path.join(d, cert + ".key"))
    msg = ("<38>Dec 10 06:55:48 hostx sshd[1]: " + ssh_line("py-" + cert)).encode()
    try:
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5))
        s.sendall(b"%d %s" % (len(msg), msg))
        s.settimeout(1)
        got = s.recv(1)
        s.close()
        return got != b""
    except socket.timeout:
        s.close()
        return True
    except (ssl.SSLError, ConnectionError, OSError):
        return False


def main():
    missing = [p for p in ("certtool", RSYSLOGD, GTLS, "setpriv", "logger")
               if not (os.path.exists(p) or subprocess.run(["which", p],
                                                           capture_output=True).returncode == 0)]
    if missing:
        check(False, "needs rsyslog, rsyslog-gnutls and gnutls-bin (./dev.sh installs them); "
                     "missing: " + ", ".join(missing))
        finish()

    ports = {"ca_port": free_port(), "fp_port": free_port()}
    d = Daemon("")
    os.chmod(d.dir, 0o755)
    ports["dir"] = d.dir
    ports["fpr"] = make_certs(d.dir)
    d.write_config(CONFIG % ports)
    d.start()
    try:
        # The relay's CA-signed certificate: accepted by tls-ca.
        r = Rsyslog(d.dir, "ca", ports["ca_port"], "relay")
        r.send(ssh_line("rsyslog-ca"))
        ok = wait_for(lambda: stored(d, "tls-ca", "rsyslog-ca") == 1, timeout=15)
        check(ok, "rsyslog with a CA-signed client certificate: its record arrives on tls-ca")
        r.stop()
        if not ok:
            print(r.output())
        check(metric(d, "hikeshi_input_denied_total", "tls-ca") == 0,
              "tls-ca: no client refused so far")

        # The self-signed certificate, listed by fingerprint: accepted by tls-fp.
        r = Rsyslog(d.dir, "fp", ports["fp_port"], "selfsigned")
        r.send(ssh_line("rsyslog-fp"))
        ok = wait_for(lambda: stored(d, "tls-fp", "rsyslog-fp") == 1, timeout=15)
        check(ok, "rsyslog with a client certificate listed by fingerprint: its record arrives "
                  "on tls-fp")
        r.stop()
        if not ok:
            print(r.output())

        # No client certificate: refused, nothing arrives.
        r = Rsyslog(d.dir, "nocert", ports["ca_port"], None)
        r.send(ssh_line("rsyslog-nocert"))
        refused = wait_for(lambda: metric(d, "hikeshi_input_denied_total", "tls-ca") >= 1,
                           timeout=15)
        check(refused, "rsyslog without a client certificate: refused (input_denied_total %d)" %
              metric(d, "hikeshi_input_denied_total", "tls-ca"))
        time.sleep(1)
        r.stop()
        check(stored(d, "tls-ca", "rsyslog-nocert") == 0,
              "rsyslog without a client certificate: its record never arrives")
        log = d.read_log()
        check("input tls-ca: TLS client 127.0.0.1:" in log and "refused" in log,
              "the refusal is logged with the client's address")

        # Certificates presented to the wrong input.
        before_ca = metric(d, "hikeshi_input_denied_total", "tls-ca")
        before_fp = metric(d, "hikeshi_input_denied_total", "tls-fp")
        check(not python_client(ports["ca_port"], d.dir, "selfsigned"),
              "a self-signed client certificate not chaining to the CA: refused by tls-ca")
        check(not python_client(ports["fp_port"], d.dir, "relay"),
              "a CA-signed certificate whose fingerprint is not listed: refused by tls-fp")
        check(wait_for(lambda: metric(d, "hikeshi_input_denied_total", "tls-ca") == before_ca + 1
                       and metric(d, "hikeshi_input_denied_total", "tls-fp") == before_fp + 1),
              "each wrong certificate counted once in input_denied_total")
        check(python_client(ports["ca_port"], d.dir, "relay") and
              wait_for(lambda: stored(d, "tls-ca", "py-relay") == 1),
              "a second client with the CA-signed certificate: accepted, record stored")
        check(stored(d, "tls-ca", "py-selfsigned") == 0 and stored(d, "tls-fp", "py-relay") == 0,
              "nothing from the refused clients stored")
    finally:
        rc = d.stop()
    check(rc == 0, "daemon stopped cleanly (%d)" % rc)
    finish()


if __name__ == "__main__":
    main()
