"""The NATS connection authenticated by an NKey (issue 23, docs/scale.md).

One Debian nats-server with JetStream on loopback whose only user is an
NKey made fresh here (tests/e2e/nkeys_gen.py, PyNaCl): the server itself
checks the public key's encoding when it loads its configuration, and the
signature of its nonce at each connect.  A collector and an analyser
configured with nats.nkey_seed_file:

  1. connect (the server's /connz lists both, as that NKey), N numbered
     records sent to the collector are stored exactly once by the
     analyser and raise alerts;
  2. the server restarts: both log in again, now as the unprivileged user
     the daemon dropped to (libnats reads the seed file again), the
     collector publishes M more records and the analyser, having made its
     leases bucket again (memory-stored, lost with the lone server), stores
     them exactly once;
  3. a node whose seed is not the server's user is refused: it says so,
     keeps running (as with a wrong password) and stores nothing;
  4. refused at start, naming the file: a seed file others may read (mode
     0644, with the chmod to run; `hikeshi run -n` too), one the dropped
     user cannot read (run as root), one that holds no user seed; and
     user/password_file together with nkey_seed_file;
  5. nats.credentials_file, against a second nats-server in operator mode
     (an operator, an account with JetStream, a system account and a user,
     all JWTs signed here): both nodes log in as the .creds file's user
     and records flow exactly once; another operator's user is refused
     and the node keeps running; a .creds file without its seed, one of
     mode 0640, and credentials_file with nkey_seed_file are refused.
"""

import json
import os
import pwd
import re
import signal
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, Daemon, check, finish, free_port, skip, wait_for  # noqa: E402
import natsnode  # noqa: E402
from natsnode import NATS, connz, line, port_open, query, stored_nums  # noqa: E402
import nkeys_gen  # noqa: E402

N = 200
M = 50

NODE = natsnode.node("nats")


def nacl_python():
    """A Python that has PyNaCl: Debian's (python3-nacl) when the test runs
    under another interpreter."""
    for py in (sys.executable, "/usr/bin/python3"):
        if os.path.exists(py) and subprocess.run(
                [py, "-c", "import nacl.signing"], capture_output=True).returncode == 0:
            return py
    return None


def user_pair(py):
    out = subprocess.run([py, nkeys_gen.__file__], capture_output=True, text=True,
                         check=True).stdout.split()
    return out[0], out[1]


def drop_user():
    """The user a daemon started as root becomes (security.user's default)."""
    for name in ("hikeshi", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    return None


def write_secret(path, text, mode=0o600, owner=None):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    if owner is not None:
        os.chown(path, owner.pw_uid, owner.pw_gid)


def creds_phase(py, base, owner):
    """5. A nats-server in operator mode (an operator, an account with
    JetStream and its user, JWTs signed here): a collector and an analyser
    with nats.credentials_file log in as the user and records flow."""
    out = subprocess.run([py, "-c", "import sys, json; sys.path.insert(0, %r); "
                          "import nkeys_gen; print(json.dumps(nkeys_gen.operator_setup()))"
                          % os.path.dirname(nkeys_gen.__file__)],
                         capture_output=True, text=True, check=True).stdout
    op = json.loads(out)
    creds, user_pub = op["creds"], op["user"]
    # a user of another operator's account, unknown to this server
    foreign = json.loads(subprocess.run(
        [py, "-c", "import sys, json; sys.path.insert(0, %r); import nkeys_gen; "
         "print(json.dumps(nkeys_gen.operator_setup()))" % os.path.dirname(nkeys_gen.__file__)],
        capture_output=True, text=True, check=True).stdout)["creds"]
    foreignf = os.path.join(base, "foreign.creds")
    write_secret(foreignf, foreign, owner=owner)
    credf = os.path.join(base, "node.creds")
    write_secret(credf, creds, owner=owner)
    nport, mport = free_port(), free_port()
    conf = os.path.join(base, "nats-op.conf")
    with open(conf, "w") as f:
        f.write("listen: 127.0.0.1:%d\nhttp: 127.0.0.1:%d\n"
                "jetstream { store_dir: \"%s\" }\n"
                "operator: %s\nsystem_account: %s\nresolver: MEMORY\n"
                "resolver_preload: { %s }\n"
                % (nport, mport, os.path.join(base, "js-op"), op["operator"], op["system"],
                   ", ".join("%s: %s" % kv for kv in op["accounts"].items())))
    slog = open(os.path.join(base, "nats-op.log"), "ab")
    server = subprocess.Popen([NATS, "-c", conf], stdout=slog, stderr=subprocess.STDOUT)
    daemons = []
    try:
        up = wait_for(lambda: server.poll() is not None or
                      (port_open(nport) and port_open(mport)), timeout=30)
        check(up and server.poll() is None,
              "nats-server in operator mode loads the operator and account JWTs made here")
        auth = "  credentials_file: %s\n" % credf
        for role, name in (("collector", "ccol"), ("analyser", "can")):
            os.mkdir(os.path.join(base, name))
            d = Daemon(NODE.format(role=role, nats=nport, name=name, auth=auth),
                       workdir=os.path.join(base, name))
            daemons.append(d)
            d.start(timeout=60)
        col, an = daemons
        names = {"hikeshi collector ccol", "hikeshi analyser can"}

        def conns():
            return {c.get("name"): c for c in connz(mport, auth=True).get("connections", [])}
        check(wait_for(lambda: names <= set(conns()), timeout=60, step=0.2),
              "operator mode: the server lists both nodes (%s)" % sorted(conns()))
        cs = conns()
        check(all(cs.get(n, {}).get("authorized_user") == user_pub for n in names),
              "both are logged in as the user of the .creds file (%s)"
              % ", ".join("%s: %s" % (n, cs.get(n, {}).get("authorized_user"))
                          for n in sorted(names)))
        s = socket.create_connection(("127.0.0.1", col.port))
        s.sendall(b"".join(line(n) for n in range(M)))
        s.close()
        check(wait_for(lambda: len(stored_nums(an)) >= M, timeout=120, step=0.2),
              "operator mode: %d records reach the analyser's store" % M)
        got = stored_nums(an)
        check(sorted(got) == list(range(M)), "each exactly once (%d stored, %d distinct)"
              % (len(got), len(set(got))))
        os.mkdir(os.path.join(base, "cforeign"))
        wrong = Daemon(NODE.format(role="analyser", nats=nport, name="cforeign",
                                   auth="  credentials_file: %s\n" % foreignf),
                       workdir=os.path.join(base, "cforeign"))
        daemons.append(wrong)
        wrong.start(timeout=60)
        m = re.search(r"nats: no server of nats.servers lets us in yet \((?!no answer)(.*)\)",
                      wrong.read_log())
        check(m is not None and re.search(r"(?i)authoriz", m.group(1)) is not None,
              "a node with another operator's .creds says the server refused it (%s)"
              % (m.group(1) if m else "no such line"))
        check(wrong.proc.poll() is None and "hikeshi analyser cforeign" not in conns(),
              "it keeps running, not connected")

        def conf_refused(name, auth, want, what):
            path = os.path.join(base, name + ".yaml")
            with open(path, "w") as f:
                f.write(NODE.format(role="analyser", nats=nport, name=name, auth=auth)
                        .replace("{data}", os.path.join(base, name)).replace("{http}", "0")
                        .replace("{port}", "0"))
            r = subprocess.run([BIN, "run", "-n", "-c", path], capture_output=True, text=True,
                               timeout=60)
            check(r.returncode != 0 and want in r.stdout + r.stderr,
                  "%s is refused (%s)" % (what, (r.stdout + r.stderr).strip()[-200:]))

        noseed = os.path.join(base, "noseed.creds")
        write_secret(noseed, creds.split("************")[0], owner=owner)
        conf_refused("c-noseed", "  credentials_file: %s\n" % noseed,
                     "nats.credentials_file %s: not a .creds file" % noseed,
                     "a .creds file without its seed")
        conf_refused("c-both", "  credentials_file: %s\n  nkey_seed_file: %s\n"
                     % (credf, credf),
                     "nats: nkey_seed_file and credentials_file exclude each other",
                     "credentials_file with nkey_seed_file")
        loose = os.path.join(base, "loose.creds")
        write_secret(loose, creds, mode=0o640, owner=owner)
        path = os.path.join(base, "loose-creds.yaml")
        with open(path, "w") as f:
            f.write(NODE.format(role="analyser", nats=nport, name="lc",
                                auth="  credentials_file: %s\n" % loose)
                    .replace("{data}", os.path.join(base, "lc")).replace("{http}", "0")
                    .replace("{port}", "0"))
        r = subprocess.run([BIN, "run", "-n", "-c", path], capture_output=True, text=True,
                           timeout=60)
        check(r.returncode != 0 and "nats.credentials_file %s: a secret that others than its "
              "owner may read or write (mode 0640); run chmod 600 %s" % (loose, loose)
              in r.stdout + r.stderr,
              "a .creds file of mode 0640 is refused (%s)" % (r.stdout + r.stderr).strip()[-160:])
        for d in daemons:
            rc = d.stop()
            check(rc == 0, "%s stops cleanly (exit %d)" % (os.path.basename(d.dir), rc))
    finally:
        for d in daemons:
            if d.proc and d.proc.poll() is None:
                d.stop()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        slog.close()
    return daemons


def main():
    if not os.path.exists(NATS):
        skip("nats-server is not installed (apt-get install nats-server)")
    py = nacl_python()
    check(py is not None, "PyNaCl is installed (python3-nacl) to make the NKeys")
    if py is None:
        finish()
    base = tempfile.mkdtemp(prefix="hikeshi-e2e-nats-nkey-")
    os.chmod(base, 0o755)
    root = os.geteuid() == 0
    owner = drop_user() if root else None
    seed, pub = user_pair(py)
    wrong_seed, _ = user_pair(py)
    check(re.fullmatch(r"SU[A-Z2-7]{56}", seed) is not None and
          re.fullmatch(r"U[A-Z2-7]{55}", pub) is not None,
          "a fresh user NKey: seed SU... (58 characters), public key U... (56)")
    seedf = os.path.join(base, "node.nk")
    write_secret(seedf, seed + "\n", owner=owner)
    wrongf = os.path.join(base, "wrong.nk")
    write_secret(wrongf, wrong_seed + "\n", owner=owner)
    nport, mport = free_port(), free_port()
    conf = os.path.join(base, "nats.conf")
    with open(conf, "w") as f:
        f.write("listen: 127.0.0.1:%d\nhttp: 127.0.0.1:%d\n"
                "jetstream { store_dir: \"%s\" }\n"
                "authorization { users: [ { nkey: %s } ] }\n"
                % (nport, mport, os.path.join(base, "js"), pub))
    slog = open(os.path.join(base, "nats.log"), "ab")

    def nats_start():
        p = subprocess.Popen([NATS, "-c", conf], stdout=slog, stderr=subprocess.STDOUT)
        ok = wait_for(lambda: p.poll() is not None or (port_open(nport) and port_open(mport)),
                      timeout=30)
        return p if ok and p.poll() is None else p

    def nats_stop(p):
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    server = nats_start()
    daemons = []
    try:
        check(server.poll() is None and port_open(nport),
              "nats-server loads a configuration whose user is the NKey %s..." % pub[:12])
        auth = "  nkey_seed_file: %s\n" % seedf

        def node(role, name, auth):
            return natsnode.start(NODE, base, daemons, nport, role, name, auth)

        # 1. Both nodes log in with the seed; records and alerts flow.
        col = node("collector", "col1", auth)
        an = node("analyser", "an1", auth)
        names = {"hikeshi collector col1", "hikeshi analyser an1"}

        def conns():
            return {c.get("name"): c for c in connz(mport, auth=True).get("connections", [])}
        check(wait_for(lambda: names <= set(conns()), timeout=60, step=0.2),
              "the server lists the collector and the analyser as clients")
        cs = conns()
        check(all(cs[n].get("authorized_user") == pub for n in names),
              "both are logged in as the NKey user (%s)"
              % ", ".join("%s: %s" % (n, cs[n].get("authorized_user")) for n in sorted(names)))
        check("nats: NKey user %s (from %s)" % (pub, seedf) in an.read_log(),
              "the analyser's log names the public key it derived from the seed")
        s = socket.create_connection(("127.0.0.1", col.port))
        s.sendall(b"".join(line(n) for n in range(N)))
        s.close()
        check(wait_for(lambda: len(stored_nums(an)) >= N, timeout=300, step=0.2),
              "%d records reach the analyser's store" % N)
        got = stored_nums(an)
        check(sorted(got) == list(range(N)),
              "every record stored exactly once (%d stored, %d distinct)"
              % (len(got), len(set(got))))
        check(wait_for(lambda: query(an, "SELECT count(*) FROM alerts") != [(0,)] and
                       query(an, "SELECT count(*) FROM alerts") != [], timeout=60, step=0.2),
              "the analyser raised alerts (%s)" % query(an, "SELECT count(*) FROM alerts"))

        # 2. The server restarts: both sign its new nonce from the seed file,
        # read again by the user they dropped to.
        nats_stop(server)
        server = nats_start()
        check(server.poll() is None, "nats-server restarted")
        check(wait_for(lambda: names <= set(conns()), timeout=60, step=0.2),
              "both nodes log in again after the restart%s"
              % (" (as user %s)" % owner.pw_name if owner else ""))
        s = socket.create_connection(("127.0.0.1", col.port))
        s.sendall(b"".join(line(n) for n in range(N, N + M)))
        s.close()

        def published():
            try:
                return col.metric(col.get("/metrics")[2], "hikeshi_nats_records_published_total")
            except OSError:
                return None
        check(wait_for(lambda: published() == N + M, timeout=120, step=0.2),
              "the collector publishes %d more records after the reconnect (%s in all)"
              % (M, published()))
        # the analyser makes its leases bucket (memory-stored, lost with the
        # server) again and takes its partitions back
        check(wait_for(lambda: len(stored_nums(an)) >= N + M, timeout=120, step=0.2),
              "the analyser stores them too (its leases bucket made again)")
        got = stored_nums(an)
        check(sorted(got) == list(range(N + M)),
              "still every record exactly once (%d stored, %d distinct)"
              % (len(got), len(set(got))))

        # 3. A seed the server does not know: refused, keeps running.
        wrong = node("analyser", "an-wrong", "  nkey_seed_file: %s\n" % wrongf)
        refused = r"nats: no server of nats.servers lets us in yet \((?!no answer)(.*)\)"
        m = re.search(refused, wrong.read_log())
        check(m is not None and re.search(r"(?i)authoriz", m.group(1)) is not None,
              "a node with another NKey says the server refused its login (%s)"
              % (m.group(1) if m else "no such line"))
        check("hikeshi analyser an-wrong" not in conns(),
              "the server holds no connection of it")
        check(wrong.proc.poll() is None, "it keeps running")
        check(re.search(r"nats: the server refused our login \(.*\); attempt 3 of 4",
                        wrong.read_log()) is not None and
              "does not try again after a refused login" in wrong.read_log(),
              "it tried its login four times, then says it stays off NATS until restarted")
        check(stored_nums(wrong) == [], "it stored no record")

        for d in (col, an, wrong):
            rc = d.stop()
            check(rc == 0 and "Sanitizer" not in d.read_log(),
                  "%s stops cleanly (exit %d)" % (os.path.basename(d.dir), rc))

        # 4. Refused at start, naming the file.
        def refused_start(name, auth, want):
            os.mkdir(os.path.join(base, name))
            d = Daemon(NODE.format(role="analyser", nats=nport, name=name, auth=auth),
                       workdir=os.path.join(base, name))
            try:
                d.start(timeout=60)
                daemons.append(d)
                check(False, "%s: the start is refused (it started)" % name)
            except RuntimeError as e:
                hit = re.search(want, str(e))
                check(hit is not None, "%s: the start is refused: %s"
                      % (name, hit.group(0) if hit else str(e)[-300:]))
            return d

        loose = os.path.join(base, "loose.nk")
        write_secret(loose, seed + "\n", mode=0o644, owner=owner)
        want = (r"nats.nkey_seed_file %s: a secret that others than its owner may read or "
                r"write \(mode 0644\); run chmod 600 %s" % (re.escape(loose), re.escape(loose)))
        d = refused_start("an-loose", "  nkey_seed_file: %s\n" % loose, want)
        r = subprocess.run([BIN, "run", "-n", "-c", d.conf], capture_output=True, text=True,
                           timeout=60)
        check(r.returncode != 0 and re.search(want, r.stdout + r.stderr) is not None,
              "hikeshi run -n refuses it too (%s)" % (r.stdout + r.stderr).strip()[-200:])
        garbage = os.path.join(base, "garbage.nk")
        # an account's seed, well formed: not a user's
        write_secret(garbage, nkeys_gen.encode_seed(nkeys_gen.PREFIX_ACCOUNT, os.urandom(32))
                     + "\n", owner=owner)
        refused_start("an-account", "  nkey_seed_file: %s\n" % garbage,
                      r"nats.nkey_seed_file %s: the seed of an NKey that is not a user's"
                      % re.escape(garbage))
        # one character of the node's seed changed
        write_secret(garbage, seed[:30] + ("A" if seed[30] != "A" else "B") + seed[31:] + "\n",
                     owner=owner)
        refused_start("an-damaged", "  nkey_seed_file: %s\n" % garbage,
                      r"nats.nkey_seed_file %s: its checksum does not match" % re.escape(garbage))
        write_secret(garbage, "not a seed\n", owner=owner)
        refused_start("an-garbage", "  nkey_seed_file: %s\n" % garbage,
                      r"nats.nkey_seed_file %s: not one NKey seed" % re.escape(garbage))
        if owner is not None:
            mine = os.path.join(base, "roots.nk")
            write_secret(mine, seed + "\n")  # root's, 0600
            refused_start("an-rootonly", "  nkey_seed_file: %s\n" % mine,
                          r"nats.nkey_seed_file %s: not readable by user %s .*chown %s %s"
                          % (re.escape(mine), owner.pw_name, owner.pw_name, re.escape(mine)))
        path = os.path.join(base, "both.yaml")
        with open(path, "w") as f:
            f.write(NODE.format(role="analyser", nats=nport, name="both",
                                auth="  user: hik\n  password_file: %s\n%s" % (seedf, auth))
                    .replace("{data}", os.path.join(base, "both")).replace("{http}", "0")
                    .replace("{port}", "0"))
        r = subprocess.run([BIN, "run", "-n", "-c", path], capture_output=True, text=True,
                           timeout=60)
        check(r.returncode != 0 and "user/password_file and nkey_seed_file exclude each other"
              in r.stdout + r.stderr,
              "user/password_file with nkey_seed_file is refused, naming both (%s)"
              % (r.stdout + r.stderr).strip()[-160:])
        daemons += creds_phase(py, base, owner)
    finally:
        natsnode.stop(daemons)
        nats_stop(server)
        slog.close()
    natsnode.cleanup(base, daemons, __import__("harness").FAILURES)
    finish()


if __name__ == "__main__":
    main()
