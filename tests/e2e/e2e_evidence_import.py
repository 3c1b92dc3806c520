"""`hikeshi evidence import` (issue 19): site A registers a pcap (copied)
and a log bundle, hands the pcap over and exports a signed bundle; site B,
with a register and key of its own, imports it with A's verification key:
each item is registered at B with A's acquisition, a copy of the file in
B's evidence store, and custody "add" then "import" received from A's key
(with the item's id at A and the hash of its last custody entry there);
A's manifest is kept at B.  B's `evidence verify` finds both intact, and a
bundle B exports of them verifies under B's key.  Refused, with nothing
imported: a bundle with one flipped byte in an item (the fault named), one
checked against the wrong site key, and a bundle without --site-pub (usage,
exit 2)."""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, check, finish  # noqa: E402


def run(*args, env=None):
    p = subprocess.run([BIN] + list(args), capture_output=True, timeout=300, env=env)
    return p.returncode, p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")


def site(tmp, name):
    """A data_dir, its configuration and an evidence key of its own."""
    data = os.path.join(tmp, name, "var")
    os.makedirs(data)
    cfg = os.path.join(tmp, name, "hikeshi.yaml")
    with open(cfg, "w") as f:
        f.write("data_dir: %s\n" % data)
    key = os.path.join(tmp, name, "evidence.key")
    rc, out = run("evidence", "keygen", "-c", cfg, "--key", key)
    check(rc == 0, "site %s: evidence keygen" % name)
    return cfg, key, data


def custody(data, item):
    con = sqlite3.connect(os.path.join(data, "hikeshi.db"))
    rows = con.execute("SELECT line FROM evidence_custody WHERE item_id = ? ORDER BY seq",
                       (item,)).fetchall()
    con.close()
    return [json.loads(r[0]) for r in rows]


def body(tmp):
    cfg_a, key_a, data_a = site(tmp, "a")
    cfg_b, key_b, data_b = site(tmp, "b")
    pcap = os.path.join(tmp, "capture.pcap")
    with open(pcap, "wb") as f:
        f.write(b"\xd4\xc3\xb2\xa1" + b"exfiltration over dns " * 40)
    logs = os.path.join(tmp, "auth-logs.tar")
    with open(logs, "wb") as f:
        f.write(b"auth.log of web1\n" * 100)
    rc, out = run("evidence", "add", "-c", cfg_a, "--key", key_a, "--kind", "pcap", "--copy",
                  "--by", "alice", "--host", "fw1", "--tool", "tcpdump", "--reason", "exfil",
                  "--purpose", "proof-against-perpetrator", "--incident", "4", pcap)
    check(rc == 0 and "EV-1" in out, "site a: add the pcap: " + out[:120])
    rc, out = run("evidence", "add", "-c", cfg_a, "--key", key_a, "--kind", "log-bundle",
                  "--by", "alice", "--incident", "4", logs)
    check(rc == 0 and "EV-2" in out, "site a: add the logs")
    rc, out = run("evidence", "transfer", "-c", cfg_a, "--key", key_a, "--from", "alice",
                  "--to", "courier", "--reason", "to site b", "EV-1")
    check(rc == 0, "site a: hand the pcap to the courier")
    bundle = os.path.join(tmp, "bundle")
    rc, out = run("evidence", "export", "-c", cfg_a, "--key", key_a, "--incident", "4",
                  "-o", bundle)
    check(rc == 0, "site a: export the incident's bundle: " + out[:200])
    a_last = custody(data_a, 1)[-1]["hash"]
    with open(key_a + ".pub") as f:
        a_pub = f.read().strip()

    # Refusals first: nothing may be imported by them.
    bad = os.path.join(tmp, "bundle-bad")
    shutil.copytree(bundle, bad)
    sha = hashlib.sha256(open(pcap, "rb").read()).hexdigest()
    item = os.path.join(bad, "items", sha)
    os.chmod(item, 0o644)
    with open(item, "r+b") as f:
        f.seek(10)
        c = f.read(1)
        f.seek(10)
        f.write(bytes([c[0] ^ 1]))
    rc, out = run("evidence", "import", "-c", cfg_b, "--key", key_b, "--site-pub",
                  key_a + ".pub", bad)
    check(rc == 1 and "SHA-256 mismatch" in out and "nothing imported" in out,
          "a bundle with a flipped byte is refused, the fault named: " + out[-300:])
    rc, out = run("evidence", "import", "-c", cfg_b, "--key", key_b, "--site-pub",
                  key_b + ".pub", bundle)
    check(rc == 1 and "nothing imported" in out,
          "a bundle checked against another site's key is refused: " + out[-200:])
    rc, out = run("evidence", "import", "-c", cfg_b, "--key", key_b, bundle)
    check(rc == 2 and "--site-pub" in out, "import without --site-pub is a usage error")
    rc, out = run("evidence", "list", "-c", cfg_b, "--json")
    check(rc == 0 and json.loads(out) == [], "and site b's register is still empty")

    rc, out = run("evidence", "import", "-c", cfg_b, "--key", key_b, "--site-pub",
                  key_a + ".pub", "--incident", "9", "--by", "bob", bundle)
    check(rc == 0 and "2 items imported" in out and
          "EV-1 received from ed25519:%s" % a_pub in out,
          "site b imports the bundle with a's key: " + out[-300:])
    rc, out = run("evidence", "list", "-c", cfg_b, "--json", "--incident", "9")
    items = json.loads(out) if rc == 0 else []
    check(len(items) == 2, "both items are linked to b's incident 9")
    p = items[0] if items else {}
    check(p.get("name") == "capture.pcap" and p.get("sha256") == sha and
          p.get("storage") == "copy" and p.get("kind") == "pcap" and
          p.get("acquisition", {}).get("host") == "fw1" and
          p.get("acquisition", {}).get("tool") == "tcpdump" and
          p.get("purposes") == ["proof-against-perpetrator"],
          "the pcap keeps its name, digest, kind, acquisition and purposes (%s)" % p)
    check(os.path.exists(os.path.join(data_b, "evidence", sha)),
          "its content is copied into b's evidence store")
    log = custody(data_b, 1)
    check([e["action"] for e in log] == ["add", "import"] and
          log[0]["details"].get("custodian") == "bob",
          "b's custody: add (custodian bob) then import (%s)" % [e["action"] for e in log])
    imp = log[1]["details"] if len(log) > 1 else {}
    check(imp.get("received_from") == "ed25519:" + a_pub and imp.get("origin_item") == "EV-1" and
          imp.get("origin_custody_head") == a_last,
          "the import entry names a's key, the item's id there and its last custody hash")
    m = imp.get("manifest_sha256", "")
    kept = os.path.join(data_b, "evidence", "bundles", m + ".json")
    check(m and os.path.exists(kept) and
          hashlib.sha256(open(kept, "rb").read()).hexdigest() == m and
          os.path.exists(os.path.join(data_b, "evidence", "bundles", m + ".sig")),
          "a's manifest and its signature are kept at b under their SHA-256")
    rc, out = run("evidence", "verify", "-c", cfg_b, "--key", key_b, "EV-1", "EV-2")
    check(rc == 0 and out.count("intact") == 2, "b verifies both imported items: " + out)
    b_bundle = os.path.join(tmp, "bundle-b")
    rc, out = run("evidence", "export", "-c", cfg_b, "--key", key_b, "--incident", "9",
                  "-o", b_bundle)
    check(rc == 0, "b exports the imported items: " + out[-200:])
    rc, out = run("evidence", "verify-bundle", "--pub", key_b + ".pub", b_bundle)
    check(rc == 0 and "intact" in out, "b's own bundle of them verifies under b's key: " + out)
    with open(os.path.join(data_b, "audit.log")) as f:
        check('"action":"evidence.import"' in f.read(), "b's audit log holds evidence.import")


def main():
    tmp = tempfile.mkdtemp(prefix="hikeshi-evimport-")
    try:
        body(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
