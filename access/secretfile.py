"""The hub's own secret keys: 32 random bytes in a hex file under HUB_HOME, created 0600 on first
use, never in the database or the repository (token signing, audit anchors, pseudonyms, webhooks)."""

from __future__ import annotations

import secrets
from pathlib import Path

from hub.errors import ConfigError


def load(path: Path) -> bytes:
    """The key in ``path``, made on first use; safe when several workers start at once."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("x", encoding="ascii") as out:
                out.write(secrets.token_hex(32))
        except FileExistsError:
            pass  # another worker made it first
        path.chmod(0o600)
    text = path.read_text(encoding="ascii").strip()
    if len(text) < 32:
        raise ConfigError(f"key file {path} is too short: it must hold at least 32 hex characters")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise ConfigError(f"key file {path} must hold hex characters only") from None
