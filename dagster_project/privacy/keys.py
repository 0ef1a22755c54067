"""The secret keys behind every pseudonym, kept beside the warehouse, never inside it.

Two keys, each 32 random bytes written hex-encoded to a file created owner-only (0600) in
the warehouse's state folder (`<warehouse>.state/`, itself 0700) on first use:
- `pseudonym.key`: keys the HMAC-SHA256 pseudonyms that leave the personal-data zone
  (`marts.dim_customers.email_pseudonym` and everything copied from it). SHOP_PSEUDONYM_KEY
  replaces the file (e.g. from a secrets manager). Rotating it changes every published
  pseudonym at the next full rebuild (README, "Personal data").
- `suppression.key`: keys the suppression list of erased customers in `raw._suppression`.
  It never leaves the personal-data zone and is never rotated: a rotated key would no
  longer recognise an erased customer in a re-delivered export.
The keys reach Python's `hmac` only: never dbt, its logs, its manifest or a SQL text.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from ..state import state_dir

PSEUDONYM_KEY_FILE = "pseudonym.key"
SUPPRESSION_KEY_FILE = "suppression.key"
MIN_KEY_LENGTH = 32  # characters of a SHOP_PSEUDONYM_KEY (32 hex digits = 128 bits)


class PrivacyKeyError(RuntimeError):
    """A key file that cannot be used; the message names the file and the rule."""


def owner_only_dir(path: Path) -> Path:
    """Create `path` (0700) or tighten an existing one."""
    path.mkdir(parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def read_or_create_key(path: Path) -> bytes:
    """The key in `path`, created with 32 random bytes (hex) and mode 0600 if missing.
    A key file readable by others is refused: it must be fixed, not silently used."""
    owner_only_dir(path.parent)
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it just now
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise PrivacyKeyError(f"{path}: key file mode {mode:o} lets other users read it; "
                        f"run chmod 600 {path}")
    text = path.read_text().strip()
    if len(text) < MIN_KEY_LENGTH:
        raise PrivacyKeyError(f"{path}: a key of at least {MIN_KEY_LENGTH} characters is needed, "
                        f"found {len(text)}")
    return text.encode()


def pseudonym_key(warehouse_path: str | Path, given: str = "") -> bytes:
    """SHOP_PSEUDONYM_KEY when given (checked by Settings.validate), else the key file."""
    if given:
        return given.encode()
    return read_or_create_key(state_dir(warehouse_path) / PSEUDONYM_KEY_FILE)


def suppression_key(warehouse_path: str | Path) -> bytes:
    return read_or_create_key(state_dir(warehouse_path) / SUPPRESSION_KEY_FILE)


def pseudonym(key: bytes, value: str) -> str:
    """HMAC-SHA256 of `value` under `key`, hex: without the key, a list of candidate values
    (every e-mail of a leaked list, every customer number) cannot be matched to it."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def normalised_email(email: str) -> str:
    """The e-mail as pseudonymised: surrounding spaces removed, lower case."""
    return email.strip().lower()


def owner_only_file(path: str | Path) -> None:
    """Tighten a file the warehouse created (DuckDB creates files with the process umask)."""
    file = Path(path)
    if file.exists() and file.stat().st_mode & 0o077:
        file.chmod(0o600)
