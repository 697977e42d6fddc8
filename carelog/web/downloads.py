"""What a downloaded file is called: what it holds, in plain ASCII ("peggy-hughes-2026-11.pdf")."""

from __future__ import annotations

from slugify import slugify


def download_name(what: str, month: str, extension: str) -> str:
    """A file name saying whom or which ward a file is about and its month: accents and letters
    such as Ł become plain ASCII, so that every browser and file system keeps the name."""
    return f"{slugify(f'{what} {month}') or 'carelog'}.{extension}"


def attachment(name: str) -> dict[str, str]:
    """The header that makes the browser save the file under that name."""
    return {"Content-Disposition": f"attachment; filename={name}"}
