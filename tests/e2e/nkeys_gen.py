"""NATS NKeys for the e2e tests (tests/e2e/e2e_nats_nkey.py), written from
the format the NATS documentation gives: base32 (RFC 4648, no padding) of
a prefix naming the key's kind, 32 bytes, and a CRC-16/XMODEM of what
precedes it, little-endian.  A seed carries two prefix bytes (the seed's,
then the kind's) and an ed25519 seed; a public key one prefix byte and the
ed25519 public key.  PyNaCl (Debian's python3-nacl) makes the key pair.

Run alone: prints a fresh user seed and its public key, one a line."""

import base64
import os

PREFIX_SEED = 18 << 3
PREFIX_USER = 20 << 3
PREFIX_ACCOUNT = 0


def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def _b32(raw):
    raw += crc16(raw).to_bytes(2, "little")
    return base64.b32encode(raw).decode().rstrip("=")


def encode_seed(kind, seed32):
    return _b32(bytes([PREFIX_SEED | (kind >> 5), (kind & 31) << 3]) + seed32)


def encode_public(kind, pub32):
    return _b32(bytes([kind]) + pub32)


PREFIX_OPERATOR = 14 << 3


def pair(kind, seed32=None):
    """(seed text, public key text, nacl SigningKey) of a fresh key of `kind`."""
    import nacl.signing
    seed32 = seed32 if seed32 is not None else os.urandom(32)
    key = nacl.signing.SigningKey(seed32)
    return encode_seed(kind, seed32), encode_public(kind, bytes(key.verify_key)), key


def _b64(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def jwt(issuer_key, issuer_pub, subject_pub, name, nats):
    """A NATS JWT (v2 claims) for subject_pub, signed by issuer_key (ed25519
    over header.payload, as the NATS JWT format has it)."""
    import hashlib
    import json
    import time
    claims = {"jti": "", "iat": int(time.time()), "iss": issuer_pub, "name": name,
              "sub": subject_pub, "nats": dict(nats, version=2)}
    claims["jti"] = base64.b32encode(hashlib.sha256(
        json.dumps(claims, sort_keys=True).encode()).digest()).decode().rstrip("=")
    head = _b64(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}).encode())
    body = _b64(json.dumps(claims).encode())
    sig = issuer_key.sign((head + "." + body).encode()).signature
    return head + "." + body + "." + _b64(sig)


def operator_setup():
    """An operator, one account with JetStream and one user of it, and a
    system account: the JWTs by public key, the user's .creds text."""
    _, op_pub, op_key = pair(PREFIX_OPERATOR)
    _, acc_pub, acc_key = pair(PREFIX_ACCOUNT)
    user_seed, user_pub, _ = pair(PREFIX_USER)
    op_jwt = jwt(op_key, op_pub, op_pub, "hikeshi-e2e", {"type": "operator"})
    unlimited = {"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
                 "wildcards": True, "conn": -1, "leaf": -1,
                 "mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1}
    acc_jwt = jwt(op_key, op_pub, acc_pub, "HIKESHI",
                  {"type": "account", "limits": unlimited})
    # the server's own account (JetStream needs one in operator mode)
    _, sys_pub, _ = pair(PREFIX_ACCOUNT)
    sys_jwt = jwt(op_key, op_pub, sys_pub, "SYS", {"type": "account"})
    user_jwt = jwt(acc_key, acc_pub, user_pub, "node",
                   {"type": "user", "pub": {}, "sub": {}, "subs": -1, "data": -1,
                    "payload": -1})
    creds = ("-----BEGIN NATS USER JWT-----\n%s\n------END NATS USER JWT------\n\n"
             "************************* IMPORTANT *************************\n"
             "NKEY Seed printed below can be used to sign and prove identity.\n\n"
             "-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n"
             % (user_jwt, user_seed))
    return {"operator": op_jwt, "accounts": {acc_pub: acc_jwt, sys_pub: sys_jwt},
            "system": sys_pub, "creds": creds, "user": user_pub}


def user_pair(seed32=None):
    """(seed text, public key text) of a fresh user, or of seed32's."""
    import nacl.signing
    seed32 = seed32 if seed32 is not None else os.urandom(32)
    key = nacl.signing.SigningKey(seed32)
    return (encode_seed(PREFIX_USER, seed32),
            encode_public(PREFIX_USER, bytes(key.verify_key)))


if __name__ == "__main__":
    s, p = user_pair()
    print(s)
    print(p)
