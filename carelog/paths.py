"""Where the app's templates, static files and migrations are, in a checkout or an installed wheel.

In a checkout they sit at the top of the project (`templates/`, `migrations/`); the wheel carries
them inside the package (`carelog/templates`, `carelog/migrations`; see pyproject.toml), so the
app runs from an installed package too.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def _resource(name: str) -> Path:
    """The copy inside an installed wheel, else the checkout's top-level folder."""
    bundled = PACKAGE / name
    return bundled if bundled.is_dir() else PACKAGE.parent / name


TEMPLATES = _resource("templates")
MIGRATIONS = _resource("migrations")
STATIC = PACKAGE / "static"
