"""The NATS connection over TLS with a password (issue 23, docs/scale.md).

One Debian nats-server with JetStream on loopback that demands TLS, a
client certificate signed by its CA (verify: true) and a user and password;
its monitoring port shows each connection's TLS version.  Certificates are
made here with openssl(1) in a temporary directory.  A collector and an
analyser configured with nats.tls (ca, cert, key), nats.user and
nats.password_file:

  1. connect over TLS (the server's /connz lists both by name, each with a
     TLS version), and N numbered records sent to the collector are stored
     exactly once by the analyser;
  2. a node with the wrong password is refused by the server: it says so,
     keeps running and stores nothing; a node without a client certificate
     is refused too;
  3. the configuration is checked: a cert without its key, a user without
     its password_file, and a CA file that does not load are named.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, Daemon, check, finish, free_port, skip, wait_for  # noqa: E402
import natsnode  # noqa: E402
from natsnode import NATS, connz, line, port_open, stored_nums  # noqa: E402

N = 300
PASSWORD = "s3cret-pw/for.the-e2e"

NODE = natsnode.node("tls")


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True)


def make_certs(d):
    """A CA, the server's certificate for 127.0.0.1 and a client's."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=hikeshi e2e CA", "-keyout", "ca.key", "-out", "ca.pem", cwd=d)
    with open(os.path.join(d, "san.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    for who in ("server", "client"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=%s" % who,
                "-keyout", who + ".key", "-out", who + ".csr", cwd=d)
        openssl("x509", "-req", "-in", who + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", "san.cnf", "-out", who + ".pem",
                cwd=d)


def check_conf(base, name, nats_port, auth, want):
    """`hikeshi run -n` on a node with `auth`: refused, the message matching want."""
    path = os.path.join(base, name + ".yaml")
    with open(path, "w") as f:
        f.write(NODE.format(role="analyser", nats=nats_port, name=name, auth=auth)
                .replace("{data}", os.path.join(base, name)).replace("{http}", "0")
                .replace("{port}", "0"))
    r = subprocess.run([BIN, "run", "-n", "-c", path], capture_output=True, text=True,
                       timeout=60)
    out = r.stdout + r.stderr
    check(r.returncode != 0 and re.search(want, out) is not None,
          "config: %s is refused, saying %r (%s)" % (name, want, out.strip()[-160:]))


def main():
    if not os.path.exists(NATS):
        skip("nats-server is not installed (apt-get install nats-server)")
    if not shutil.which("openssl"):
        skip("openssl is not installed")
    base = tempfile.mkdtemp(prefix="hikeshi-e2e-nats-tls-")
    os.chmod(base, 0o755)
    make_certs(base)
    for f in os.listdir(base):
        os.chmod(os.path.join(base, f), 0o644)  # the daemons read them as root anyway
    pwfile = os.path.join(base, "nats.password")
    with open(pwfile, "w") as f:
        f.write(PASSWORD + "\n")
    badpw = os.path.join(base, "wrong.password")
    with open(badpw, "w") as f:
        f.write("not-the-password\n")
    nport, mport = free_port(), free_port()
    with open(os.path.join(base, "nats.conf"), "w") as f:
        f.write("listen: 127.0.0.1:%d\nhttp: 127.0.0.1:%d\n"
                "jetstream { store_dir: \"%s\" }\n"
                "tls { cert_file: \"%s\"\n  key_file: \"%s\"\n  ca_file: \"%s\"\n"
                "  verify: true\n  timeout: 3 }\n"
                "authorization { user: hik\n  password: \"%s\" }\n"
                % (nport, mport, os.path.join(base, "js"), os.path.join(base, "server.pem"),
                   os.path.join(base, "server.key"), os.path.join(base, "ca.pem"), PASSWORD))
    full = ("  tls:\n    ca: %s\n    cert: %s\n    key: %s\n  user: hik\n  password_file: %s\n"
            % (os.path.join(base, "ca.pem"), os.path.join(base, "client.pem"),
               os.path.join(base, "client.key"), pwfile))
    nolog = open(os.path.join(base, "nats.log"), "ab")
    server = subprocess.Popen([NATS, "-c", os.path.join(base, "nats.conf")], stdout=nolog,
                              stderr=subprocess.STDOUT)
    daemons = []
    try:
        check(wait_for(lambda: port_open(nport) and port_open(mport), timeout=30),
              "nats-server with TLS, client certificates and a password listens")

        def node(role, name, auth):
            return natsnode.start(NODE, base, daemons, nport, role, name, auth)

        # 1. TLS, client certificate and password: records go through.
        col = node("collector", "col1", full)
        an = node("analyser", "an1", full)
        names = {"hikeshi collector col1", "hikeshi analyser an1"}

        def tls_conns():
            return {c.get("name"): c.get("tls_version")
                    for c in connz(mport).get("connections", [])}
        check(wait_for(lambda: names <= set(tls_conns()), timeout=60, step=0.2),
              "the server lists the collector and the analyser as clients")
        conns = tls_conns()
        check(all(conns.get(n) for n in names),
              "both connect over TLS (%s)" % ", ".join("%s: %s" % (n, conns.get(n))
                                                         for n in sorted(names)))
        s = socket.create_connection(("127.0.0.1", col.port))
        s.sendall(b"".join(line(n) for n in range(N)))
        s.close()
        check(wait_for(lambda: len(stored_nums(an)) >= N, timeout=300, step=0.2),
              "%d records through TLS reach the analyser's store" % N)
        got = stored_nums(an)
        check(sorted(got) == list(range(N)),
              "every record stored exactly once (%d stored, %d distinct)"
              % (len(got), len(set(got))))

        # 2. Refused: a wrong password, no client certificate.
        wrong = node("analyser", "an-wrongpw", full.replace(pwfile, badpw))
        refused = r"nats: no server of nats.servers lets us in yet \((?!no answer)(.*)\)"
        m = re.search(refused, wrong.read_log())
        check(m is not None and re.search(r"(?i)authoriz", m.group(1)) is not None,
              "a node with the wrong password says the server refused its login (%s)"
              % (m.group(1) if m else "no such line"))
        nocert = node("analyser", "an-nocert",
                      "  tls:\n    ca: %s\n  user: hik\n  password_file: %s\n"
                      % (os.path.join(base, "ca.pem"), pwfile))
        # TLS 1.3: the server checks the client's certificate after the
        # client's side of the handshake, so the node sees the connection
        # closed and names no reason; the server's log names it
        m = re.search(r"nats: no server of nats.servers lets us in yet \((.*)\)",
                      nocert.read_log())
        check(m is not None,
              "a node without a client certificate says it is not let in (%s)"
              % (m.group(1) if m else "no such line"))
        with open(os.path.join(base, "nats.log"), errors="replace") as f:
            slog = f.read()
        check("TLS handshake error: tls: client didn't provide a certificate" in slog,
              "the server refused it for want of a client certificate")
        conns = tls_conns()
        check("hikeshi analyser an-wrongpw" not in conns and
              "hikeshi analyser an-nocert" not in conns,
              "the server holds no connection of either (%s)" % ", ".join(sorted(conns)))
        check(wrong.proc.poll() is None and nocert.proc.poll() is None,
              "both keep running (they retry)")
        check(stored_nums(wrong) == [] and stored_nums(nocert) == [],
              "neither stored a record")

        for d in (col, an, wrong, nocert):
            rc = d.stop()
            check(rc == 0 and "Sanitizer" not in d.read_log(),
                  "%s stops cleanly (exit %d)" % (os.path.basename(d.dir), rc))

        # 3. The configuration checks.
        check_conf(base, "c-nokey", nport,
                   "  tls:\n    cert: %s\n" % os.path.join(base, "client.pem"),
                   r"nats.tls: cert and key go together")
        check_conf(base, "c-nopw", nport, "  user: hik\n",
                   r"nats: user and password_file go together")
        os.mkdir(os.path.join(base, "an-badca"))
        bad = Daemon(NODE.format(role="analyser", nats=nport, name="an-badca",
                                 auth="  tls:\n    ca: %s\n" % os.path.join(base, "nope.pem")),
                     workdir=os.path.join(base, "an-badca"))
        try:
            bad.start(timeout=60)
            daemons.append(bad)
            check(False, "a CA file that does not load stops the start")
        except RuntimeError as e:
            check(re.search(r"nats: nats.tls.ca .*nope.pem", str(e)) is not None,
                  "a CA file that does not load stops the start, named (%s)"
                  % (re.findall(r"nats: nats.tls.ca.*", str(e)) or ["no line"])[0][:120])
    finally:
        natsnode.stop(daemons)
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        nolog.close()
    natsnode.cleanup(base, daemons, __import__("harness").FAILURES)
    finish()


if __name__ == "__main__":
    main()
