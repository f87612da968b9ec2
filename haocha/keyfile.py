"""The instance's secret keys: from the environment, else from `keys.json` in the data directory, which the
first start fills with random keys (owner-only permissions). No key from the source code is ever used, so
`make run` stays one command and nobody can forge a signed link with a key everyone can read."""

import base64
import json
import os
import secrets
from pathlib import Path

FILE_NAME = "keys.json"
NAMES = {  # setting -> environment variable
    "SECRET_KEY": "HAOCHA_SECRET_KEY",
    "IDENTITY_HASH_KEY": "HAOCHA_IDENTITY_HASH_KEY",
    "IDENTITY_ENCRYPTION_KEY": "HAOCHA_IDENTITY_ENCRYPTION_KEY",
}


def _new(name: str) -> str:
    if name == "IDENTITY_ENCRYPTION_KEY":  # a Fernet key: 32 random bytes, url-safe base64
        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return secrets.token_urlsafe(48)


def instance_keys(var_dir: Path, environ=os.environ) -> dict[str, str]:
    """{setting: key}; the environment wins; missing keys are generated once and kept in the data directory."""
    keys = {name: environ.get(var, "").strip() for name, var in NAMES.items()}
    if all(keys.values()):
        return keys
    path = Path(var_dir) / FILE_NAME
    stored = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    missing = {name: _new(name) for name in NAMES if not stored.get(name)}
    if missing:
        stored.update(missing)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(stored, fh, indent=1)
        os.replace(tmp, path)  # atomic: two processes starting at once both end with one valid file
        stored = json.loads(path.read_text(encoding="utf-8"))
    os.chmod(path, 0o600)
    return {name: keys[name] or stored[name] for name in NAMES}
