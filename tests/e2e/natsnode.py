"""What the NATS end-to-end tests (e2e_nats_tls, e2e_nats_nkey) share: a
collector's or analyser's configuration, the numbered sshd lines they send
and how to find them in an analyser's store, the server's /connz, and the
end of a run (daemons stopped; their directory kept with their logs shown
when a check failed)."""

import json
import os
import re
import shutil
import socket
import sqlite3
import urllib.request

NATS = shutil.which("nats-server") or "/usr/sbin/nats-server"
USER_RE = re.compile(rb"invalid user u(\d+) from")


def node(scheme):
    """A node's configuration, to fill with .format(role=, nats= (the
    server's port), name=, auth= (the nats: keys that log in)); then Daemon
    fills {data}, {http} and {port}.  scheme: nats or tls."""
    return """
role: {role}
data_dir: {{data}}
http:
  listen: 127.0.0.1:{{http}}
inputs:
  - name: tcp
    type: syslog-tcp
    listen: 127.0.0.1:{{port}}
nats:
  servers: [%s://127.0.0.1:{nats}]
  name: {name}
  partitions: 2
  ack_wait: 4s
{auth}
""" % scheme


def start(template, base, daemons, nats, role, name, auth):
    """Starts a node of `template` (node()) in base/name, logged in with
    `auth`, and adds it to daemons (stop() ends them)."""
    from harness import Daemon
    os.mkdir(os.path.join(base, name))
    d = Daemon(template.format(role=role, nats=nats, name=name, auth=auth),
               workdir=os.path.join(base, name))
    daemons.append(d)
    d.start(timeout=60)
    return d


def line(n):
    """Line n: an SSH login failure of user u<n> (the bundled rule alerts)."""
    return (b"<38>Oct 11 22:14:15 web%d sshd[4001]: Failed password for invalid user u%d "
            b"from 10.0.%d.%d port 22 ssh2\n" % (n % 5, n, (n >> 8) & 255, n & 255))


def query(d, sql):
    """Rows of daemon d's store ([] while it is not there or busy)."""
    path = os.path.join(d.data, "hikeshi.db")
    if not os.path.exists(path):
        return []
    con = sqlite3.connect(path, timeout=30)
    try:
        return con.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


def stored_nums(d):
    """The line numbers daemon d stored as events, repeats included."""
    out = []
    for (raw,) in query(d, "SELECT raw FROM events"):
        m = USER_RE.search(bytes(raw) if raw else b"")
        if m:
            out.append(int(m.group(1)))
    return out


def connz(port, auth=False):
    """nats-server's /connz on its monitoring port (auth: with the users)."""
    url = "http://127.0.0.1:%d/connz%s" % (port, "?auth=1" if auth else "")
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read().decode())


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def stop(daemons):
    """Stops the daemons still running."""
    for d in daemons:
        if d.proc and d.proc.poll() is None:
            try:
                d.stop()
            except RuntimeError as e:
                print(e)


def cleanup(base, daemons, failed, tail=3000):
    """Once everything stopped: removes base when no check failed, else
    prints each daemon's log's tail and keeps base for a look."""
    if not failed:
        shutil.rmtree(base, ignore_errors=True)
    else:
        for d in daemons:
            print("---- %s" % d.log)
            print(d.read_log()[-tail:])
