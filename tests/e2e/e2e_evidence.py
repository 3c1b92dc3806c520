"""`hikeshi evidence` on real files (issue 19): a 2 GB sparse disk image
(referenced in place) and a pcap written here (two packets, copied into the
evidence store) are added to incident 7; the pcap is handed over twice
(alice -> bob -> carol) and a hand-over by someone who no longer holds it is
refused; `evidence verify` finds both intact and the audit log holds every
custody entry; `evidence export --incident 7` writes a signed bundle,
which verifies in a fresh directory holding only the bundle and the
verification key, both with `hikeshi evidence verify-bundle` and with the
stand-alone tools/verify-bundle.py (PyNaCl).  Then, on copies of a bundle of
the small items: one flipped byte of an item, of a custody entry, of the
manifest, and an item removed: each found and named by both verifiers
(exit status 1).  A flipped byte of the stored pcap copy is found by
`evidence verify`, and so are a custody entry changed in the store and
a seal deleted from it."""

import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, SOURCE, check, finish  # noqa: E402

VERIFIER = os.path.abspath(os.path.join(SOURCE, "tools", "verify-bundle.py"))
HIKESHI = os.path.abspath(BIN)  # the fresh-directory check runs elsewhere


def nacl_python():
    """A Python that has PyNaCl: Debian's (python3-nacl) when the test runs
    under another interpreter.  Missing PyNaCl is a failure, not a skip."""
    for py in (sys.executable, "/usr/bin/python3"):
        if os.path.exists(py) and subprocess.run(
                [py, "-c", "import nacl.signing"], capture_output=True).returncode == 0:
            return py
    return None


def run(*args, env=None):
    p = subprocess.run([HIKESHI] + list(args), capture_output=True, timeout=600, env=env)
    return p.returncode, p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")


def write_pcap(path):
    """A libpcap file: the global header and two Ethernet/IPv4/UDP packets."""
    def packet(ts, payload):
        udp = struct.pack(">HHHH", 40000, 53, 8 + len(payload), 0) + payload
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                         bytes([192, 0, 2, 10]), bytes([198, 51, 100, 53])) + udp
        frame = b"\x02\x00\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x02" + b"\x08\x00" + ip
        return struct.pack("<IIII", ts, 0, len(frame), len(frame)) + frame
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        f.write(packet(1700000000, b"exfil-query-one"))
        f.write(packet(1700000001, b"exfil-query-two"))


def copy_bundle(src, dst):
    """A copy keeping holes (a 2 GB sparse image stays cheap)."""
    subprocess.run(["cp", "-r", "--sparse=always", src, dst], check=True)


def both_verifiers(py, bundle, pub):
    rc1, out1 = run("evidence", "verify-bundle", "--pub", pub, bundle)
    p = subprocess.run([py, VERIFIER, "--pub", pub, bundle], capture_output=True, timeout=600)
    return (rc1, out1), (p.returncode, p.stdout.decode() + p.stderr.decode())


def flip(path, offset):
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x01]))


def body(tmp):
    py = nacl_python()
    check(py is not None, "a Python with PyNaCl is there for tools/verify-bundle.py")
    data = os.path.join(tmp, "var")
    cfg = os.path.join(tmp, "hikeshi.yaml")
    with open(cfg, "w") as f:
        f.write("data_dir: %s\n" % data)
    keys = os.path.join(tmp, "keys")
    os.mkdir(keys)
    key = os.path.join(keys, "evidence.key")
    pub = key + ".pub"
    env = dict(os.environ, HIKESHI_EVIDENCE_KEY=key)

    os.makedirs(data)
    rc, out = run("evidence", "keygen", "-c", cfg, "--key", os.path.join(data, "in.key"))
    check(rc == 2 and "inside data_dir" in out, "keygen refuses a key inside data_dir: " + out)
    rc, out = run("evidence", "keygen", "-c", cfg, "--key", key)
    check(rc == 0 and os.path.exists(pub), "keygen writes the key and its .pub")
    rc, out = run("evidence", "keygen", "-c", cfg, "--key", key)
    check(rc == 1 and "exists already" in out, "keygen refuses to overwrite a key")

    disk = os.path.join(tmp, "web1-sda.img")
    subprocess.run(["truncate", "-s", "2G", disk], check=True)
    with open(disk, "r+b") as f:  # a little data among the holes
        f.seek(1 << 30)
        f.write(b"MBR-and-some-bytes")
    pcap = os.path.join(tmp, "capture.pcap")
    write_pcap(pcap)
    note = os.path.join(tmp, "notes.txt")
    with open(note, "w") as f:
        f.write("first responder notes\n")

    rc, out = run("evidence", "add", "-c", cfg, "--kind", "disk-image", "--incident", "7",
                  "--by", "alice", "--host", "web1", "--tool", "dd",
                  "--command", "dd if=/dev/sda of=web1-sda.img bs=1M",
                  "--reason", "suspected web shell", "--purpose", "investigation",
                  "--purpose", "proof-against-perpetrator", disk, env=env)
    check(rc == 0 and "EV-1" in out, "add the 2 GB image: " + out[:200])
    check("size    2147483648" in out, "its size is 2 GiB")
    # Its digests are checked against Python's hashlib by verify-bundle.py
    # below; the small items' here against coreutils.

    rc, out = run("evidence", "add", "-c", cfg, "--kind", "pcap", "--copy", "--incident", "7",
                  "--by", "alice", "--host", "fw1", "--tool", "tcpdump",
                  "--command", "tcpdump -w capture.pcap udp port 53",
                  "--purpose", "proof-of-non-occurrence", pcap, env=env)
    check(rc == 0 and "EV-2" in out, "add the pcap, copied: " + out[:120])
    pcap_sha = subprocess.run(["sha256sum", pcap], capture_output=True,
                              text=True).stdout.split()[0]
    pcap_b2 = subprocess.run(["b2sum", pcap], capture_output=True, text=True).stdout.split()[0]
    check(pcap_sha in out and pcap_b2 in out, "its SHA-256 and BLAKE2b are sha256sum's and b2sum's")
    stored = os.path.join(data, "evidence", pcap_sha)
    check(os.path.exists(stored) and not os.stat(stored).st_mode & 0o222,
          "the copy is DATA_DIR/evidence/<sha256>, read-only")
    rc, out = run("evidence", "add", "-c", cfg, "--kind", "other", "--copy", note, env=env)
    check(rc == 0 and "EV-3" in out, "add a note (no incident)")
    rc, out = run("evidence", "add", "-c", cfg, "--kind", "floppy", note, env=env)
    check(rc == 2 and "unknown kind" in out, "an unknown kind is refused: " + out)

    rc, out = run("evidence", "list", "-c", cfg, "--incident", "7")
    check(rc == 0 and "EV-1" in out and "EV-2" in out and "EV-3" not in out,
          "list --incident 7 shows its two items")

    rc, out = run("evidence", "transfer", "-c", cfg, "--from", "alice", "--to", "bob",
                  "--reason", "to the lab", "EV-2", env=env)
    check(rc == 0, "transfer alice -> bob: " + out)
    rc, out = run("evidence", "transfer", "-c", cfg, "--from", "bob", "--to", "carol",
                  "--reason", "analysis", "EV-2", env=env)
    check(rc == 0, "transfer bob -> carol: " + out)
    rc, out = run("evidence", "transfer", "-c", cfg, "--from", "alice", "--to", "mallory",
                  "EV-2", env=env)
    check(rc == 1 and "held by 'carol'" in out, "a hand-over by a former holder is refused: "
          + out)

    rc, out = run("evidence", "verify", "-c", cfg, "EV-1", "EV-2", "EV-3", env=env)
    check(rc == 0 and out.count("intact") == 3, "verify: all three intact: " + out)
    rc, out = run("evidence", "show", "-c", cfg, "EV-2", env=env)
    check(rc == 0 and '\\"to\\":\\"carol\\"' not in out and '"to":"carol"' in out
          and '"action":"access"' in out, "show prints the custody log, its access included")

    with open(os.path.join(data, "audit.log")) as f:
        audit = f.read()
    for action in ("evidence.add", "evidence.transfer", "evidence.verify", "evidence.access"):
        check('"action":"%s"' % action in audit, "the audit log holds %s" % action)
    rc, out = run("audit", "verify", "-c", cfg)
    check(rc == 0, "the audit log's chain is intact: " + out)

    # The bundle of incident 7, checked where only it and the key are.
    bundle = os.path.join(tmp, "bundle-7")
    rc, out = run("evidence", "export", "-c", cfg, "--incident", "7", "-o", bundle, env=env)
    check(rc == 0 and "2 items" in out, "export --incident 7: " + out)
    fresh = os.path.join(tmp, "fresh")
    os.mkdir(fresh)
    copy_bundle(bundle, os.path.join(fresh, "bundle"))
    shutil.copy(pub, os.path.join(fresh, "site.pub"))
    cwd = os.getcwd()
    os.chdir(fresh)
    try:
        (rc1, out1), (rc2, out2) = both_verifiers(py, "bundle", "site.pub")
    finally:
        os.chdir(cwd)
    check(rc1 == 0 and "intact" in out1, "hikeshi verify-bundle: intact: " + out1)
    check(rc2 == 0 and "intact" in out2, "verify-bundle.py: intact: " + out2)
    rc, out = run("evidence", "verify-bundle", "--pub", os.path.join(tmp, "nokey"), bundle)
    check(rc == 2, "verify-bundle without a readable key is a usage error")

    # Tampering, on copies of a bundle of the two small items.
    small = os.path.join(tmp, "bundle-small")
    rc, out = run("evidence", "export", "-c", cfg, "--item", "EV-2", "--item", "EV-3",
                  "-o", small, env=env)
    check(rc == 0, "export --item EV-2 --item EV-3: " + out)
    (rc1, out1), (rc2, out2) = both_verifiers(py, small, pub)
    check(rc1 == 0 and rc2 == 0, "the small bundle verifies: " + out1 + out2)
    with open(os.path.join(small, "manifest.json"), "rb") as f:
        manifest = f.read()

    def case(name, tamper, needles):
        d = os.path.join(tmp, "t-" + name)
        copy_bundle(small, d)
        tamper(d)
        for who, (rc, out) in zip(("hikeshi", "verify-bundle.py"), both_verifiers(py, d, pub)):
            check(rc == 1 and all(n in out for n in needles),
                  "%s: %s finds it: %s" % (name, who, out.strip().replace("\n", " | ")))

    item = "items/" + pcap_sha
    case("item byte", lambda d: flip(os.path.join(d, item), 30),
         ["item EV-2: file %s: content SHA-256 mismatch" % item])
    # "carol" -> "carom" inside the third custody entry of EV-2.
    at = manifest.index(b'to\\":\\"carol')
    case("custody byte", lambda d: flip(os.path.join(d, "manifest.json"), at + 11),
         ["item EV-2: custody entry 3 (transfer): hash mismatch",
          "manifest.json: changed after signing"])
    at2 = manifest.index(b'"tool":"tcpdump"')
    case("manifest byte", lambda d: flip(os.path.join(d, "manifest.json"), at2 + 9),
         ["manifest.json: changed after signing"])
    case("item removed", lambda d: os.unlink(os.path.join(d, item)),
         ["item EV-2: file %s is missing" % item])

    # The register's own copy changed on disk: evidence verify names it.
    flip(stored, 40)
    rc, out = run("evidence", "verify", "-c", cfg, "EV-2", env=env)
    check(rc == 1 and "item EV-2: content" in out and "SHA-256 mismatch" in out,
          "verify finds the stored copy changed: " + out)

    # The register's rows changed behind its back.
    db = sqlite3.connect(os.path.join(data, "hikeshi.db"))
    db.execute("UPDATE evidence_custody SET line = replace(line, '\"to\":\"bob\"', "
               "'\"to\":\"bot\"') WHERE item_id = 2 AND seq = 2")
    db.commit()
    rc, out = run("evidence", "verify", "-c", cfg, "EV-2", env=env)
    check(rc == 1 and "item EV-2: custody entry 2 (transfer): hash mismatch" in out
          and "custody entry 3: transfer from 'bob' while the custodian was 'bot'" in out,
          "verify names a changed custody entry in the store: " + out)
    db.execute("DELETE FROM evidence_seals WHERE epoch = (SELECT max(epoch) FROM evidence_seals)")
    db.commit()
    db.close()
    rc, out = run("evidence", "verify", "-c", cfg, "EV-3", env=env)
    check(rc == 1 and "seals it signed are missing" in out,
          "a register missing the key's last seal is refused: " + out)


def main():
    tmp = tempfile.mkdtemp(prefix="e2e_evidence.")
    try:
        body(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
