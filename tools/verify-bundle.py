#!/usr/bin/env python3
"""verify-bundle.py - check a hikeshi evidence bundle without hikeshi.

Usage: verify-bundle.py --pub KEYFILE BUNDLE_DIR

KEYFILE is the site's evidence verification key (one line of 64 hex
digits), obtained from the site by a way other than the bundle itself.
Needs only Python 3 and PyNaCl (Debian: python3-nacl).  The checks and the
formats are those of docs/evidence.md:

  - manifest.sig is a bundle seal over the SHA-256 of manifest.json, signed
    by the key chain's epoch that follows the last seal the manifest lists;
  - the seals chain from KEYFILE's key: seal i has epoch i, is signed by
    the key the seal before it named as next (seal 0 by KEYFILE's key);
  - each item's custody log: every line in the fixed layout, its hash the
    SHA-256 of the bytes before ',"hash":', linked to the line before it,
    numbered 1, 2, ..., sealed by a seal; the first is the add and names
    the item's SHA-256; each transfer is from the custodian of the moment;
  - each copied item (items/<sha256>) has the size, SHA-256 and BLAKE2b-512
    the manifest lists; no other file sits in items/;
  - each archive excerpt's and attestation's archive proof and clauses
    (verify_archive_proof.py, beside this script; excerpt records need the
    zstd command, Debian package zstd).

Prints each fault on its own line, then the verdict.  Exit status: 0
intact, 1 broken, 2 usage error or unreadable key.
"""

import hashlib
import json
import os
import re
import struct
import sys

try:
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey
except ImportError:  # pragma: no cover
    sys.stderr.write("verify-bundle.py: needs PyNaCl (Debian: apt-get install python3-nacl)\n")
    sys.exit(2)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify_archive_proof  # noqa: E402

FORMAT = "hikeshi-evidence-bundle-v1"
DOMAINS = {"custody": b"hikeshi-evidence-custody-v1\0", "bundle": b"hikeshi-evidence-bundle-v1\0"}
ENTRY_KEYS = ["item", "seq", "time", "actor", "action", "details", "prev", "hash"]
SEAL_KEYS = ["epoch", "kind", "hash", "signer", "next", "sig"]
HEX = re.compile(r"^[0-9a-f]*$")
CHUNK = 1 << 20


class Dup(ValueError):
    pass


def strict_pairs(pairs):
    """A JSON object that refuses duplicate keys and keeps their order."""
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise Dup("duplicate key")
    d = dict(pairs)
    d["\0order"] = keys
    return d


def loads(text):
    return json.loads(text, object_pairs_hook=strict_pairs)


def unhex(s, n):
    if not isinstance(s, str) or len(s) != 2 * n or not HEX.match(s):
        raise ValueError("not %d lowercase hex digits" % (2 * n))
    return bytes.fromhex(s)


class Report:
    def __init__(self):
        self.faults = []
        self.checked = 0

    def fault(self, msg):
        self.faults.append(msg)


def seal_of(obj):
    """(epoch, kind, hash, signer, next, sig) of a seal object."""
    if not isinstance(obj, dict) or obj.get("\0order") != SEAL_KEYS:
        raise ValueError("not a seal")
    if obj["kind"] not in DOMAINS or not isinstance(obj["epoch"], int) or obj["epoch"] < 0:
        raise ValueError("bad kind or epoch")
    return (obj["epoch"], obj["kind"], unhex(obj["hash"], 32), unhex(obj["signer"], 32),
            unhex(obj["next"], 32), unhex(obj["sig"], 64))


def sig_ok(seal):
    epoch, kind, h, signer, nxt, sig = seal
    msg = DOMAINS[kind] + struct.pack(">Q", epoch) + signer + nxt + h
    try:
        VerifyKey(signer).verify(msg, sig)
        return True
    except (BadSignatureError, ValueError):
        return False


def check_seals(arr, pub, rep):
    seals = []
    if not isinstance(arr, list):
        rep.fault("seals: not a JSON array of seals")
        return seals
    for i, obj in enumerate(arr):
        try:
            s = seal_of(obj)
        except (ValueError, KeyError, TypeError) as e:
            rep.fault("seal %d: unreadable (%s)" % (i, e))
            return seals
        want = seals[-1][4] if seals else pub
        if s[0] != i:
            rep.fault("seal %d: epoch %d where %d was expected (a seal is missing or out of order)"
                      % (i, s[0], i))
        elif s[3] != want:
            rep.fault("seal %d: its signer is not the key chain's key for epoch %d" % (i, i))
        elif not sig_ok(s):
            rep.fault("seal %d: bad signature" % i)
        else:
            rep.checked += 1
        seals.append(s)
    return seals


def check_signature(bdir, man_bytes, seals, pub, rep):
    try:
        with open(os.path.join(bdir, "manifest.sig"), "rb") as f:
            text = f.read().decode("utf-8").rstrip("\r\n")
        s = seal_of(loads(text))
        if s[1] != "bundle":
            raise ValueError("kind is not bundle")
    except FileNotFoundError:
        rep.fault("manifest.sig: missing")
        return
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        rep.fault("manifest.sig: not a bundle seal (%s)" % e)
        return
    want = seals[-1][4] if seals else pub
    if hashlib.sha256(man_bytes).digest() != s[2]:
        rep.fault("manifest.json: changed after signing (its SHA-256 is not the one manifest.sig "
                  "signs)")
    elif s[0] != len(seals):
        rep.fault("manifest.sig: signed at epoch %d, not right after the manifest's %d seals"
                  % (s[0], len(seals)))
    elif s[3] != want:
        rep.fault("manifest.sig: its signer is not the key chain's key for epoch %d" % s[0])
    elif not sig_ok(s):
        rep.fault("manifest.sig: bad signature")
    else:
        rep.checked += 1


def check_custody(who, item_id, lines, sealed, rep):
    """Returns the SHA-256 (hex) the add entry names, or None."""
    prev = bytes(32)
    holder = None
    add_sha = None
    before = len(rep.faults)
    if not isinstance(lines, list):
        rep.fault("%s: custody log is not an array of entries" % who)
        return None
    for want, line in enumerate(lines, start=1):
        try:
            if not isinstance(line, str):
                raise ValueError("not a string")
            e = loads(line)
            if not isinstance(e, dict) or e.get("\0order") != ENTRY_KEYS:
                raise ValueError("not in the canonical layout")
            cut = line.rindex(',"hash":"')
            if not line.endswith('"}') or len(line) != cut + 9 + 64 + 2:
                raise ValueError("not in the canonical layout")
            h = unhex(e["hash"], 32)
            p = unhex(e["prev"], 32)
            if not isinstance(e["details"], dict) or not isinstance(e["seq"], int):
                raise ValueError("bad value")
        except (ValueError, KeyError, TypeError) as err:
            rep.fault("%s: custody entry %d: unreadable (%s)" % (who, want, err))
            break
        action = e["action"]
        if e["seq"] != want:
            rep.fault("%s: custody entry %d: numbered %d (an entry is missing, added or reordered)"
                      % (who, want, e["seq"]))
        if e["item"] != item_id:
            rep.fault("%s: custody entry %d: belongs to another item" % (who, want))
        if hashlib.sha256(line[:cut].encode("utf-8")).digest() != h:
            rep.fault("%s: custody entry %d (%s): hash mismatch: the entry was changed"
                      % (who, want, action))
        if p != prev:
            rep.fault("%s: custody entry %d (%s): does not chain on the entry before it"
                      % (who, want, action))
        if ("custody", h) not in sealed:
            rep.fault("%s: custody entry %d (%s): not sealed (no seal signs its hash)"
                      % (who, want, action))
        d = e["details"]
        if want == 1:
            if action != "add":
                rep.fault("%s: custody entry 1 is not the add" % who)
            add_sha = d.get("sha256")
            holder = d.get("custodian")
        elif action == "transfer":
            if d.get("from") != holder:
                rep.fault("%s: custody entry %d: transfer from '%s' while the custodian was '%s'"
                          % (who, want, d.get("from"), holder))
            holder = d.get("to")
        prev = h
    else:
        if not lines and len(rep.faults) == before:
            rep.fault("%s: custody log is empty" % who)
    if len(rep.faults) == before:
        rep.checked += 1
    return add_sha


def check_file(bdir, item_id, fname, size, sha, b2, rep):
    path = os.path.join(bdir, fname)
    if os.path.islink(path) or not os.path.isfile(path):
        rep.fault("item %s: file %s is missing" % (item_id, fname))
        return
    st = os.stat(path)
    if st.st_size != size:
        rep.fault("item %s: file %s has %d bytes, the manifest says %d"
                  % (item_id, fname, st.st_size, size))
        return
    h1, h2 = hashlib.sha256(), hashlib.blake2b()
    with open(path, "rb") as f:
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                break
            h1.update(chunk)
            h2.update(chunk)
    if h1.digest() != sha:
        rep.fault("item %s: file %s: content SHA-256 mismatch" % (item_id, fname))
    elif h2.digest() != b2:
        rep.fault("item %s: file %s: content BLAKE2b mismatch" % (item_id, fname))
    else:
        rep.checked += 1


def verify(bdir, pub, rep):
    try:
        with open(os.path.join(bdir, "manifest.json"), "rb") as f:
            man_bytes = f.read()
    except FileNotFoundError:
        rep.fault("manifest.json: missing")
        return
    try:
        m = loads(man_bytes.decode("utf-8"))
        if not isinstance(m, dict) or m.get("format") != FORMAT:
            raise ValueError("unknown format")
        mpub = unhex(m["public_key"], 32)
        items = m["items"]
        if not isinstance(items, list) or not isinstance(m["seals"], list):
            raise ValueError("items or seals is not an array")
        parsed = []
        for it in items:
            rec = it["record"]
            sha = unhex(rec["sha256"], 32)
            fname = it["file"]
            if fname is not None and fname != "items/" + sha.hex():
                raise ValueError("an item's file is not items/<its sha256>")
            size = rec["size"]
            if not isinstance(size, int) or size < 0:
                raise ValueError("a record's size is not a count")
            parsed.append((str(it["id"]), rec, sha, unhex(rec["blake2b"], 64), size, fname,
                           it["custody"]))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        rep.fault("manifest.json: unreadable: %s" % e)
        return
    if mpub != pub:
        rep.fault("manifest.json: its public_key is not the verification key given")
    seals = check_seals(m["seals"], pub, rep)
    check_signature(bdir, man_bytes, seals, pub, rep)
    sealed = {(s[1], s[2]) for s in seals}
    for item_id, rec, sha, b2, size, fname, custody in parsed:
        add_sha = check_custody("item " + item_id, item_id, custody, sealed, rep)
        if add_sha is not None and add_sha != sha.hex():
            rep.fault("item %s: its record's SHA-256 is not the one its add entry sealed" % item_id)
        if fname is not None:
            check_file(bdir, item_id, fname, size, sha, b2, rep)
        verify_archive_proof.check_item(bdir, item_id, rec, fname, rep)
    listed = {p[5][6:] for p in parsed if p[5] is not None}
    idir = os.path.join(bdir, "items")
    if os.path.isdir(idir):
        for name in sorted(os.listdir(idir)):
            if not name.startswith(".") and name not in listed:
                rep.fault("items/%s: a file the manifest does not list" % name[:80])


def main(argv):
    args = argv[1:]
    if "-h" in args or "--help" in args:
        print(__doc__.strip())
        return 0
    if len(args) != 3 or args[0] != "--pub":
        sys.stderr.write("usage: verify-bundle.py --pub KEYFILE BUNDLE_DIR\n")
        return 2
    try:
        with open(args[1], "r", encoding="ascii") as f:
            pub = unhex(f.read().strip(), 32)
    except (OSError, ValueError, UnicodeDecodeError) as e:
        sys.stderr.write("verify-bundle.py: verification key %s: %s\n" % (args[1], e))
        return 2
    rep = Report()
    verify(args[2], pub, rep)
    what = "bundle " + args[2]
    if not rep.faults:
        print("%s: intact (%d checks passed)" % (what, rep.checked))
        return 0
    for f in rep.faults:
        print(f)
    print("%s: BROKEN: %d fault%s" % (what, len(rep.faults), "" if len(rep.faults) == 1 else "s"))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
