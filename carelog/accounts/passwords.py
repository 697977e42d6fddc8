"""Passwords: the rules a new one must meet (NIST SP 800-63B), and hashing with argon2id."""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 200

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile: above OWASP's minimum


_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher.hash(password)


def check_password(stored_hash: str | None, password: str) -> bool:
    """Verify a password; with no stored hash, spend the same time and fail."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True if the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored_hash)


@cache
def _common_passwords() -> frozenset[str]:
    """30,000 commonly used passwords, from the list zxcvbn ships (loaded once, when needed)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, username: str = "") -> str | None:
    """Why a new password may not be used, in words for the person choosing it; or None.

    Length, not composition rules; no whitespace-only password; nothing from a list of common
    passwords, nor the username itself (NIST SP 800-63B 5.1.1.2).
    """
    if not password.strip():
        return "A password cannot be only spaces."
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    folded = password.strip().casefold()
    if folded in _common_passwords() or (username and folded == username.casefold()):
        return "This password is on a list of commonly used passwords. Choose another."
    return None
