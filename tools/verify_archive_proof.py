"""verify_archive_proof.py - the archive proofs inside a hikeshi evidence
bundle, checked without hikeshi (used by verify-bundle.py; docs/evidence.md,
"Archive excerpts" and "Attestations").

An item of kind archive-excerpt or attestation is a JSON document whose
"archive" object carries the archive's public key (epoch 0 of its key
chain), every seal from epoch 0 on, and runs of frames, each run from a
block to the seal after it.  Checked here, as hikeshi's own verifier does:

  - each frame: header check (BLAKE2b-64 of its first 120 bytes), frame
    hash (BLAKE2b-256 of its first 88 bytes and its payload);
  - the seals: seal i has epoch i, the archive's id, is signed (Ed25519,
    domain "hikeshi-archive-seal-v1") by the archive's key (i = 0) or the
    key the seal before named as next, and counts records on from it;
  - each run: a block first, each frame naming the hash of the one before,
    ending at a seal of that list;
  - excerpt records: each is the record at its place in its block
    (decompressed with the zstd command, Debian package zstd);
  - an attestation's clauses: nothing removed or unsealed in the window,
    counts equal to the seals', each source heard within its interval and
    its last record sealed, the query's count, verdict and statement
    sentence agreeing.

The document's own digest is checked by verify-bundle.py like any item's
file; that digest is sealed by the site's evidence key, which is what makes
the archive key inside trustworthy.
"""

import hashlib
import json
import re
import shutil
import socket
import struct
import subprocess

try:
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey
except ImportError:  # pragma: no cover
    VerifyKey = None

HEX = re.compile(r"^[0-9a-f]*$")
SEAL_DOMAIN = b"hikeshi-archive-seal-v1\0"
EXCERPT = "hikeshi-archive-excerpt-v1"
ATTEST = "hikeshi-attestation-v1"


class Dup(ValueError):
    pass


def _pairs(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise Dup("duplicate key")
    return dict(pairs)


def _unhex(s, n=None):
    if not isinstance(s, str) or len(s) % 2 or not HEX.match(s) or (n and len(s) != 2 * n):
        raise ValueError("not lowercase hex")
    return bytes.fromhex(s)


def _ints(*xs):
    """Each of xs an integer (JSON true and false are not)."""
    return all(isinstance(x, int) and not isinstance(x, bool) for x in xs)


def _blake(data, n):
    return hashlib.blake2b(data, digest_size=n).digest()


class Frame:
    """One frame, decoded and hash-checked; ValueError says what is wrong."""

    def __init__(self, obj):
        if not isinstance(obj, dict) or "hdr" not in obj or "payload" not in obj:
            raise ValueError("not an object with hdr and payload")
        h = _unhex(obj["hdr"], 128)
        p = _unhex(obj["payload"])
        if h[:4] != b"HKFR":
            raise ValueError("no frame here (bad magic)")
        if _blake(h[:120], 8) != h[120:128]:
            raise ValueError("frame header check mismatch")
        (self.type, self.codec, hlen, self.payload_len, self.raw_len, self.nrecords,
         self.index_len, self.seq, self.first_record, self.t_min, self.t_max) = \
            struct.unpack("<BBHIIIIQQqq", h[4:56])
        self.prev, self.hash = h[56:88], h[88:120]
        if hlen != 128 or self.type not in (1, 2) or self.payload_len != len(p):
            raise ValueError("payload of another length than its header says")
        if _blake(h[:88] + p, 32) != self.hash:
            raise ValueError("frame hash mismatch (header or payload changed)")
        self.hdr, self.payload = h, p
        self.is_seal = self.type == 2
        if self.is_seal:
            if len(p) != 152:
                raise ValueError("seal of the wrong length")
            self.epoch = struct.unpack("<Q", p[:8])[0]
            self.archive_id, self.signer, self.next = p[8:24], p[24:56], p[56:88]
            try:
                VerifyKey(self.signer).verify(SEAL_DOMAIN + h[:88] + p[:88], p[88:152])
                self.sig_ok = True
            except (BadSignatureError, ValueError):
                self.sig_ok = False


def _records_of(fr):
    """The records of block frame fr: [(recv_us, input, peer, raw)]."""
    data = fr.payload[:fr.payload_len - fr.index_len]
    if fr.codec == 1:
        zstd = shutil.which("zstd")
        if not zstd:
            raise ValueError("cannot decompress its block: the zstd command is not installed")
        p = subprocess.run([zstd, "-d", "-c", "-q"], input=data, capture_output=True)
        if p.returncode != 0:
            raise ValueError("its block does not decompress")
        data = p.stdout
    elif fr.codec != 0:
        raise ValueError("unknown codec")
    if len(data) != fr.raw_len or fr.nrecords * 18 > len(data):
        raise ValueError("its block does not decompress to its length")
    out, off, prev = [], fr.nrecords * 18, 0
    for i in range(fr.nrecords):
        raw_len, _flags, in_len, fam, delta, port = struct.unpack_from("<IHBBQH", data, i * 18)
        alen = {0: 0, 4: 4, 6: 16}.get(fam)
        if alen is None or off + in_len + alen + raw_len > len(data):
            raise ValueError("its block is malformed")
        d = (delta >> 1) ^ -(delta & 1)
        prev = (prev + d + 2 ** 63) % 2 ** 64 - 2 ** 63
        inp = data[off:off + in_len]
        addr = data[off + in_len:off + in_len + alen]
        raw = data[off + in_len + alen:off + in_len + alen + raw_len]
        off += in_len + alen + raw_len
        if fam == 4:
            peer = "%s:%d" % (socket.inet_ntop(socket.AF_INET, addr), port)
        elif fam == 6:
            peer = "[%s]:%d" % (socket.inet_ntop(socket.AF_INET6, addr), port)
        else:
            peer = ""
        out.append((prev, inp, peer, raw))
    return out


def check_proof(who, archive, records, rep):
    """Checks the archive object; returns (seals, sealed_records,
    sealed_t_max) or None after a fault."""
    try:
        pub = _unhex(archive["public_key"], 32)
        aid = _unhex(archive["id"], 16)
        seal_objs, frame_objs = archive["seals"], archive["frames"]
        if not isinstance(seal_objs, list) or not isinstance(frame_objs, list):
            raise ValueError("seals or frames is not an array")
    except (KeyError, TypeError, ValueError) as e:
        rep.fault("%s: archive proof unreadable (%s)" % (who, e))
        return None
    seals, frames = [], []
    for what, objs, out in (("seals", seal_objs, seals), ("frames", frame_objs, frames)):
        for i, o in enumerate(objs):
            try:
                out.append(Frame(o))
            except ValueError as e:
                rep.fault("%s: archive %s[%d]: %s" % (who, what, i, e))
                return None
    expect, total, last_seq, t_max = pub, 0, -1, None
    for i, f in enumerate(seals):
        if not f.is_seal:
            rep.fault("%s: archive seals[%d]: frame %d is a block" % (who, i, f.seq))
            return None
        if f.epoch != i or f.archive_id != aid:
            rep.fault("%s: archive seals[%d]: seal of epoch %d (or of another archive) where "
                      "epoch %d was due" % (who, i, f.epoch, i))
            return None
        if f.signer != expect or not f.sig_ok:
            rep.fault("%s: archive seals[%d]: the seal of epoch %d (frame %d) is not signed by "
                      "the key chain's key for its epoch" % (who, i, i, f.seq))
            return None
        if f.seq <= last_seq or f.nrecords > f.first_record or f.first_record - f.nrecords != total:
            rep.fault("%s: archive seals[%d]: seal of epoch %d does not continue the one before"
                      % (who, i, i))
            return None
        total, last_seq, expect = f.first_record, f.seq, f.next
        if f.nrecords and (t_max is None or f.t_max > t_max):
            t_max = f.t_max
    by_seq = {f.seq: f for f in seals}
    proven, start = set(), None
    for i, f in enumerate(frames):
        if start is None:
            if f.is_seal:
                rep.fault("%s: archive frames[%d]: a run starts with a seal" % (who, i))
                return None
            start = i
        else:
            b = frames[i - 1]
            if f.seq != b.seq + 1 or f.prev != b.hash:
                rep.fault("%s: archive frames[%d]: frame %d does not follow frame %d (its prev is "
                          "not that frame's hash)" % (who, i, f.seq, b.seq))
                return None
        if f.is_seal:
            s = by_seq.get(f.seq)
            if s is None or s.hash != f.hash:
                rep.fault("%s: archive frames[%d]: seal frame %d is not one of the verified seals"
                          % (who, i, f.seq))
                return None
            proven.update(fr.seq for fr in frames[start:i + 1] if not fr.is_seal)
            start = None
    if start is not None:
        rep.fault("%s: archive frames: the last run (from frame %d) ends without a seal"
                  % (who, frames[start].seq))
        return None
    rep.checked += len(seals) + len(frames)
    blocks = {f.seq: f for f in frames if not f.is_seal}
    cache = {}
    for i, r in enumerate(records or []):
        no = r.get("no") if isinstance(r, dict) else None
        why = _record_check(r, blocks, proven, cache)
        if why:
            rep.fault("%s: record %d (archive record %s): %s"
                      % (who, i, no if isinstance(no, int) else 2 ** 64 - 1, why))
        else:
            rep.checked += 1
    return len(seals), total, (t_max if t_max is not None else -2 ** 63)


def _record_check(r, blocks, proven, cache):
    try:
        no, seq, index, recv = r["no"], r["frame"], r["index"], r["recv_us"]
        inp, peer = r["input"], r["peer"]
        if "raw" in r:
            raw = r["raw"].encode()
        else:
            raw = _unhex(r["raw_hex"])
        if not all(isinstance(x, int) for x in (no, seq, index, recv)):
            raise ValueError
    except (KeyError, TypeError, ValueError, AttributeError):
        return "not a record"
    f = blocks.get(seq)
    if f is None:
        return "its block frame is not in the proof"
    if seq not in proven:
        return "its block frame is not chained to a verified seal"
    try:
        if seq not in cache:
            cache[seq] = _records_of(f)
    except ValueError as e:
        return str(e)
    recs = cache[seq]
    if not 0 <= index < len(recs):
        return "record index past the block's records"
    if f.first_record + index != no:
        return "its number is not its place in its block"
    a_recv, a_inp, a_peer, a_raw = recs[index]
    if a_recv != recv:
        return "its receive time is not the archive's"
    if a_inp != str(inp).encode():
        return "its input is not the archive's"
    if a_peer != (peer or ""):
        return "its sender is not the archive's"
    if a_raw != raw:
        return "its bytes are not the archive's record"
    return None


def statement(frm, to, sources, query, matched):
    return ("Between %s and %s, for sources %s, the archive is complete (segment chain "
            "continuous, seals present, each source heard within its expected interval) and "
            "the query \"%s\" matched %d record%s." % (frm, to, sources, query, matched,
                                                      "" if matched == 1 else "s"))


def check_excerpt(who, doc, rep):
    try:
        if doc.get("format") != EXCERPT:
            raise ValueError("format")
        frm, to = doc["from_us"], doc["to_us"]
        matched = doc["scan"]["matched"]
        records = doc["records"]
        archive = doc["archive"]
        if not isinstance(records, list) or not _ints(frm, to, matched):
            raise ValueError("records")
    except (KeyError, TypeError, ValueError, AttributeError):
        rep.fault("%s: excerpt without its window, scan, records or archive" % who)
        return
    for i, r in enumerate(records):
        t = r.get("recv_us") if isinstance(r, dict) else None
        if isinstance(t, int) and not frm <= t < to:
            rep.fault("%s: record %d was received outside the excerpt's window" % (who, i))
    if matched != len(records):
        rep.fault("%s: the scan matched %s records, the excerpt holds %d" % (who, matched,
                                                                            len(records)))
    check_proof(who, archive, records, rep)


def check_attestation(who, doc, rep):
    try:
        if doc.get("format") != ATTEST:
            raise ValueError("format")
        stated, frm, to = doc["statement"], doc["from"], doc["to"]
        from_us, to_us, query = doc["from_us"], doc["to_us"], doc["query"]
        matched, verdict = doc["matched"], doc["verdict"]
        scan_matched = doc["scan"]["matched"]
        comp, archive, sources = doc["completeness"], doc["archive"], doc["sources"]
        if not _ints(from_us, to_us, matched, scan_matched) or matched < 0:
            raise ValueError("matched")
        if not isinstance(comp, dict):
            comp = {}
    except (KeyError, TypeError, ValueError, AttributeError):
        rep.fault("%s: an attestation without its statement, window, query, count, verdict, "
                  "scan, completeness or archive" % who)
        return
    if from_us >= to_us:
        rep.fault("%s: the window ends before it starts" % who)
    res = check_proof(who, archive, [], rep)
    if res is None:
        return
    nseals, sealed_records, sealed_t_max = res
    if comp.get("removed_in_window") != 0:
        rep.fault("%s: clause archive: segments removed in the window" % who)
    if comp.get("unsealed_in_window") != 0:
        rep.fault("%s: clause archive: records in the window not sealed" % who)
    if comp.get("seals") != nseals:
        rep.fault("%s: clause archive: it counts %s seals, %d verify" % (who, comp.get("seals"),
                                                                       nseals))
    if comp.get("sealed_records") != sealed_records:
        rep.fault("%s: clause archive: it counts %s sealed records, the seals %d"
                  % (who, comp.get("sealed_records"), sealed_records))
    if comp.get("sealed_t_max_us") != sealed_t_max:
        rep.fault("%s: clause archive: its last sealed time is not the seals'" % who)
    elif sealed_t_max < from_us:
        rep.fault("%s: clause archive: no seal covers the window" % who)
    names = []
    if not isinstance(sources, list) or not sources:
        rep.fault("%s: names no source" % who)
        sources = []
    for i, s in enumerate(sources):
        try:
            name, every, gap = s["source"], s["expected_interval_us"], s["max_gap_us"]
            records, last = s["records"], s["last_us"]
            if not isinstance(name, str) or not _ints(every, gap, records, last):
                raise TypeError
        except (KeyError, TypeError):
            rep.fault("%s: sources[%d]: not a source clause" % (who, i))
            continue
        names.append(name)
        if every <= 0 or gap < 0 or gap > every:
            rep.fault("%s: source %s: silent for %d s, longer than its expected interval of %d s "
                      "(clause: source alive)" % (who, name, gap // 1000000, every // 1000000))
        elif records <= 0:
            rep.fault("%s: source %s: no record in the window" % (who, name))
        elif last > sealed_t_max:
            rep.fault("%s: source %s: its last record is after the last seal (clause: seals "
                      "present)" % (who, name))
        else:
            rep.checked += 1
    if scan_matched != matched:
        rep.fault("%s: clause query: the scan matched %s, the statement says %d"
                  % (who, scan_matched, matched))
    if verdict != ("occurred" if matched else "not-occurred"):
        rep.fault("%s: clause query: verdict %s with %d matches" % (who, verdict, matched))
    if stated != statement(frm, to, ", ".join(names), query, matched):
        rep.fault("%s: the statement is not the one its clauses make" % who)
    else:
        rep.checked += 1


def check_item(bdir, item_id, rec, fname, rep):
    """Called by verify-bundle.py for each item."""
    kind = rec.get("kind") if isinstance(rec, dict) else None
    if kind not in ("archive-excerpt", "attestation"):
        return
    who = "%s %s" % ("attestation" if kind == "attestation" else "excerpt", item_id)
    if fname is None:
        rep.fault("%s: its document is not in the bundle (exported without its file), so its "
                  "proof cannot be checked" % who)
        return
    try:
        with open("%s/%s" % (bdir, fname), "rb") as f:
            doc = json.loads(f.read().decode("utf-8"), object_pairs_hook=_pairs)
        if not isinstance(doc, dict):
            raise ValueError("not an object")
    except OSError:
        return  # missing: check_file named it
    except (ValueError, UnicodeDecodeError) as e:
        rep.fault("%s: not a document (%s)" % (who, e))
        return
    (check_attestation if kind == "attestation" else check_excerpt)(who, doc, rep)
