"""A tablet's outbox played in Python, from the outside: it fetches the roster as the page does,
signs an entry with the sign-in's key and seals it to the server's public key exactly as
outbox.js does with WebCrypto (ECDH P-256, HKDF-SHA256, AES-256-GCM, HMAC-SHA256)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SEAL_INFO = b"carelog offline entry v1"


def roster(staff) -> dict:
    """The roster the signed-in nurse's tablet keeps."""
    response = staff.get("/offline/roster", headers={"Accept": "application/json"})
    assert response.status_code == 200, response.status_code
    return response.get_json()


def seal(seal_key_b64: str, plain: bytes) -> dict:
    server = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256R1(), base64.b64decode(seal_key_b64)
    )
    mine = ec.generate_private_key(ec.SECP256R1())
    key = HKDF(hashes.SHA256(), 32, salt=None, info=SEAL_INFO).derive(
        mine.exchange(ec.ECDH(), server)
    )
    iv = os.urandom(12)
    epk = mine.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {
        "epk": base64.b64encode(epk).decode(),
        "iv": base64.b64encode(iv).decode(),
        "data": base64.b64encode(AESGCM(key).encrypt(iv, plain, None)).decode(),
    }


def entry(
    kept: dict,
    resident_id: int,
    kind: str = "declined",
    fields: list | dict | None = None,
    saved_at_ms: int | None = None,
    key: str | None = None,
    **overrides,
) -> dict:
    """The body the outbox posts for one entry made under the roster's sign-in. `overrides`
    replace payload members (user, login) or, as signing_key, the key it is signed with."""
    pairs = list(fields.items()) if isinstance(fields, dict) else fields or []
    signing_key = base64.b64decode(overrides.pop("signing_key", kept["signing_key"]))
    key = key or str(uuid.uuid4())
    payload = json.dumps(
        {
            "v": 1,
            "id": key,
            "user": kept["user"]["id"],
            "login": kept["login"],
            "resident": resident_id,
            "kind": kind,
            "fields": pairs if isinstance(pairs, str) else [[n, v] for n, v in pairs],
            "saved_at": saved_at_ms if saved_at_ms is not None else int(time.time() * 1000),
            **overrides,
        }
    )
    signature = hmac.new(signing_key, payload.encode(), hashlib.sha256).digest()
    sealed = json.dumps({"payload": payload, "signature": base64.b64encode(signature).decode()})
    return {"id": key, "sealed": seal(kept["seal_key"], sealed.encode())}


def sealed_text(kept: dict, text: str) -> dict:
    """Any text sealed as an entry's inside, to reach what comes after opening it."""
    return {"id": str(uuid.uuid4()), "sealed": seal(kept["seal_key"], text.encode())}


def send(client, body) -> tuple[int, dict]:
    """POST an entry as the outbox does; the status and the JSON answer."""
    response = client.post(
        "/offline/entries",
        data=json.dumps(body) if not isinstance(body, bytes) else body,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    return response.status_code, response.get_json(silent=True) or {}
