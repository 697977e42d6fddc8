"""The keys behind entries saved offline: one to sign them per sign-in, one to seal them.

Signing: each sign-in session gets its own HMAC-SHA256 key, derived on the server from the
app's secret key and the session's token hash, so it never needs storing. The tablet keeps it
as a non-extractable WebCrypto key while that nurse is signed in and forgets it at sign-out or
at a switch: an entry signed with it can only have been made during her sign-in.

Sealing: the server's P-256 key pair is derived from the same secret, so every worker and host
agrees on it without a key file. The tablet encrypts each entry to the public half (ECDH with a
fresh key of its own, HKDF-SHA256, AES-256-GCM); only the server can open it, so nobody who
picks up the tablet can read an unsent entry from its storage.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

SEAL_INFO = b"carelog offline entry v1"
_P256_ORDER = int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16)


class Unreadable(ValueError):
    """A sealed entry that does not open: damaged, tampered with, or sealed to another key."""


def _secret() -> bytes:
    return str(current_app.config["SECRET_KEY"]).encode()


def signing_key(login_token_hash: str) -> bytes:
    """The HMAC key of one sign-in session (32 bytes)."""
    return hmac.new(
        _secret(), b"carelog offline signing:" + login_token_hash.encode(), "sha256"
    ).digest()


def signature_matches(login_token_hash: str, payload: bytes, signature_b64: str) -> bool:
    try:
        given = base64.b64decode(signature_b64, validate=True)
    except (ValueError, TypeError):
        return False
    expected = hmac.new(signing_key(login_token_hash), payload, "sha256").digest()
    return hmac.compare_digest(given, expected)


@lru_cache(maxsize=4)
def _seal_private_key(secret: bytes) -> ec.EllipticCurvePrivateKey:
    seed = hashlib.sha512(b"carelog offline sealing:" + secret).digest()
    scalar = int.from_bytes(seed, "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def seal_public_key() -> str:
    """The public sealing key as the tablet imports it: an uncompressed P-256 point, base64."""
    point = (
        _seal_private_key(_secret())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return base64.b64encode(point).decode()


def _b64(value: object, name: str) -> bytes:
    if not isinstance(value, str):
        raise Unreadable(f"the sealed entry has no {name}")
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise Unreadable(f"the sealed entry's {name} is not base64") from None


def unseal(sealed: object) -> bytes:
    """Open {"epk", "iv", "data"} (base64) sealed by the tablet; raises Unreadable."""
    if not isinstance(sealed, dict):
        raise Unreadable("the entry is not sealed")
    try:
        tablet_key = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), _b64(sealed.get("epk"), "key")
        )
    except ValueError:
        raise Unreadable("the sealed entry's key is not a P-256 point") from None
    shared = _seal_private_key(_secret()).exchange(ec.ECDH(), tablet_key)
    key = HKDF(hashes.SHA256(), 32, salt=None, info=SEAL_INFO).derive(shared)
    iv = _b64(sealed.get("iv"), "iv")
    if len(iv) != 12:
        raise Unreadable("the sealed entry's iv is not 12 bytes")
    try:
        return AESGCM(key).decrypt(iv, _b64(sealed.get("data"), "data"), None)
    except InvalidTag:
        raise Unreadable("the sealed entry was changed or damaged") from None
