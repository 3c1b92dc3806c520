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
