"""The instance's keys (haocha/keyfile.py): never a key from the source; generated once, owner-only; the
environment overrides; a link signed with any other key is refused."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core import signing

from haocha.keyfile import NAMES, instance_keys

ROOT = Path(__file__).resolve().parent.parent


def test_first_start_generates_random_keys_kept_owner_only_and_reused(tmp_path):
    keys = instance_keys(tmp_path, environ={})
    path = tmp_path / "keys.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert set(keys) == set(NAMES) and all(len(v) >= 32 for v in keys.values())
    assert instance_keys(tmp_path, environ={}) == keys  # the next start uses the same keys
    (tmp_path / "other").mkdir()
    assert instance_keys(tmp_path / "other", environ={}) != keys  # another instance, other keys
    env = {"HAOCHA_SECRET_KEY": "x" * 50}
    assert instance_keys(tmp_path, environ=env)["SECRET_KEY"] == "x" * 50  # the environment wins
    assert json.loads(path.read_text())["SECRET_KEY"] == keys["SECRET_KEY"]


def test_the_running_keys_appear_nowhere_in_the_source():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in NAMES:
        value = getattr(settings, name)
        for rel in tracked.splitlines():
            file = ROOT / rel
            if file.suffix in (".py", ".md", ".toml", ".txt", ".html", ".json", ".cfg") and file.exists():
                assert value not in file.read_text(encoding="utf-8", errors="ignore"), (name, rel)


def test_a_rating_link_signed_with_the_old_source_key_is_refused(cast, client):
    from haocha.channels.links import SALT, rating_link_token
    from tests.factories import finished_case

    case = finished_case(cast, "KEY-1")
    assert client.get(f"/r/{rating_link_token(case, channel='sms')}/").status_code == 200
    old_source_key = "dev-only-insecure-key-change-me-in-production-0123456789"  # the key the source once had
    forged = signing.dumps({"c": case.case_no, "ch": "sms"}, key=old_source_key, salt=SALT, compress=True)
    assert client.get(f"/r/{forged}/").status_code == 404


def test_a_start_with_a_short_key_in_the_environment_is_refused(tmp_path):
    env = {**os.environ, "HAOCHA_VAR_DIR": str(tmp_path), "HAOCHA_SECRET_KEY": "dev-only-too-short"}
    r = subprocess.run(
        [str(Path(sys.executable).parent / "haocha"), "check", "--deploy", "--fail-level", "ERROR"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert r.returncode != 0 and "HAOCHA_SECRET_KEY 过短或为示例密钥" in r.stderr + r.stdout


def test_links_follow_the_port_the_server_listens_on_unless_a_public_url_is_set():
    code = "from django.conf import settings; print(settings.HAOCHA_PUBLIC_URL)"
    haocha = str(Path(sys.executable).parent / "haocha")
    env = {k: v for k, v in os.environ.items() if k not in ("HAOCHA_PUBLIC_URL", "HOST", "PORT")}
    out = subprocess.run(
        [haocha, "shell", "-c", code], env={**env, "PORT": "9123"}, capture_output=True, text=True
    )
    assert out.stdout.strip().splitlines()[-1] == "http://127.0.0.1:9123"
    env["HAOCHA_PUBLIC_URL"] = "https://haocha.changsha.gov.cn"
    out = subprocess.run(
        [haocha, "shell", "-c", code], env={**env, "PORT": "9123"}, capture_output=True, text=True
    )
    assert out.stdout.strip().splitlines()[-1] == "https://haocha.changsha.gov.cn"
