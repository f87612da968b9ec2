"""The tablet's service worker (tablet-sw.js) run under Node with a fake network and cache: when it answers
with the kept offline copy, and when it leaves the answer to the network. (The browser test in
test_browser_channels.py checks a real restart during an outage.)"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKER = ROOT / "haocha" / "channels" / "static" / "channels" / "tablet-sw.js"
HARNESS = ROOT / "tests" / "js" / "tablet_sw_harness.js"


@pytest.fixture(scope="module")
def answers() -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node 未安装")
    out = subprocess.run(
        [node, str(HARNESS), str(WORKER)], capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(out.stdout)


def test_the_live_page_while_the_server_answers(answers):
    assert answers["page, server up"]["body"] == "live page"
    assert answers["page, device stopped (403)"]["status"] == 403  # the server's own refusal is shown


def test_the_offline_copy_when_the_server_is_away_or_slow(answers):
    for situation in ("page, proxy 502", "page, refused", "page, slow, kept"):
        assert answers[situation]["body"] == "offline copy", situation
    assert answers["page, slow, kept"]["ms"] < 300  # did not wait for the slow network


def test_without_a_kept_copy_the_network_decides(answers):
    assert answers["page of another window, 502, none kept"]["status"] == 502
    assert answers["static, not kept, slow"]["body"] == "late js"  # waited, no error at the timeout
    assert answers["static, not kept, refused"]["error"] == "refused"
    assert answers["static, kept, 503"]["body"] == "kept js"


def test_duty_state_and_ratings_go_to_the_network_only(answers):
    assert answers["state poll"] == {"network_only": True}
