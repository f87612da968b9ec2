"""Upload to a provincial platform that is not haocha: the stand-in platform as its own process on loopback,
the real client (province/client.py) and the worker's path (upload.deliver through the outbox), signed with
HMAC-SHA256 or SM2-SM3 and SM4-encrypted as the agreement says."""

import io
import json
import os
import select
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils import timezone

from haocha.evaluations.models import IndicatorSet, Rating, RatingFlag
from haocha.integrations.docking import gm, national, signing, upload
from haocha.integrations.docking.client import ParentUnavailable, parent_client
from haocha.integrations.docking.models import RecordKind, Upload
from haocha.integrations.province import protocol
from haocha.integrations.province.client import ProvinceClient
from tests.factories import finished_case

S = Upload.Status
APP_ID = "hc-430100"
SECRET = "province-shared-secret-for-tests"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


class StandIn:
    """The stand-in provincial platform, started as `python -m …standin` or `haocha province standin`."""

    def __init__(self, *args: str, cli: bool = False):
        if cli:
            command = [str(Path(sys.executable).parent / "haocha"), "province", "standin"]
        else:
            command = [sys.executable, "-m", "haocha.integrations.province.standin"]
        ARTIFACTS.mkdir(exist_ok=True)
        self.log = open(ARTIFACTS / "province-standin.log", "ab")  # noqa: SIM115  closed in stop()
        self.proc = subprocess.Popen(
            [*command, "--port", "0", "--app-id", APP_ID, *args],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            start_new_session=True,
        )
        ready, _, _ = select.select([self.proc.stdout], [], [], 60)
        line = self.proc.stdout.readline() if ready else ""
        if not line.startswith("PORT "):
            self.stop()
            pytest.fail(f"the stand-in platform did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"

    def received(self) -> dict:
        with urllib.request.urlopen(self.url + "/received?full=1", timeout=30) as r:
            return json.loads(r.read())

    def page(self) -> str:
        with urllib.request.urlopen(self.url + "/", timeout=30) as r:
            return r.read().decode()

    def post(self, path: str, body: bytes, headers: dict) -> tuple[int, dict]:
        request = urllib.request.Request(self.url + path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture(scope="module")
def hmac_platform():
    platform = StandIn("--secret", SECRET)
    yield platform
    platform.stop()


@pytest.fixture(scope="module")
def sm2_keys():
    child_private, child_public = gm.sm2_keypair()
    platform_private, platform_public = gm.sm2_keypair()
    return {
        "child_private": child_private,
        "child_public": child_public,
        "platform_private": platform_private,
        "platform_public": platform_public,
        "sm4": os.urandom(16).hex(),
    }


@pytest.fixture(scope="module")
def sm2_platform(sm2_keys):
    """SM2-SM3 signatures, SM4-CBC bodies and signed answers, started through the CLI."""
    platform = StandIn(
        "--signing",
        "sm2-sm3",
        "--public-key",
        sm2_keys["child_public"],
        "--sm4-key",
        sm2_keys["sm4"],
        "--private-key",
        sm2_keys["platform_private"],
        cli=True,
    )
    yield platform
    platform.stop()


def to_province(settings, platform: StandIn, **more) -> None:
    settings.HAOCHA_PARENT_PROTOCOL = "provincial"
    settings.HAOCHA_PARENT_URL = platform.url
    settings.HAOCHA_PARENT_APP_ID = APP_ID
    settings.HAOCHA_PARENT_SECRET = SECRET
    settings.HAOCHA_PROVINCE_PROJECT_PREFIX = more.pop("prefix", f"T{time.monotonic_ns()}-")
    for name, value in more.items():
        setattr(settings, f"HAOCHA_PARENT_{name}", value)


def rate(case, level="satisfied", channel="tablet", **extra) -> Rating:
    return Rating.objects.create(
        case=case,
        department=case.department,
        item=case.item,
        region=case.region,
        level=level,
        is_bad=level in ("dissatisfied", "very_dissatisfied"),
        indicator_set=IndicatorSet.objects.get(code="offline", is_active=True),
        channel=channel,
        rated_at=timezone.now() - timedelta(minutes=30),
        **extra,
    )


def service(case) -> dict:
    return {"type": "service", "id": case.case_no, "version": 1, "data": national.service_record(case)}


def rating(r: Rating) -> dict:
    return {"type": "rating", "id": str(r.public_id), "version": 1, "data": national.rating_record(r)}


def mine(items: list[dict], prefix: str) -> list[dict]:
    return [item for item in items if item.get("projectNo", "").startswith(prefix)]


def round_trip():
    from haocha.core.outbox import outbox_process

    upload.run_round()
    outbox_process(limit=100)


def test_records_go_in_as_the_province_reads_them_and_again_are_duplicates(cast, settings, hmac_platform):
    to_province(settings, hmac_platform, prefix="A-")
    case = finished_case(cast, "CS-0001")
    r = rate(case, "very_satisfied", comment="很好")
    client = parent_client()
    assert isinstance(client, ProvinceClient)
    assert [x["status"] for x in client.upload([service(case), rating(r)])] == ["accepted", "accepted"]
    again = client.upload([service(case), rating(r)])
    assert [(x["status"], x["message"]) for x in again] == [
        ("duplicate", "服务数据不可重复"),
        ("duplicate", "评价数据不可重复"),
    ]
    got = hmac_platform.received()
    [stored_service] = mine(got["services"], "A-")
    [stored_rating] = mine(got["ratings"], "A-")
    assert stored_service["projectNo"] == "A-CS-0001"  # the provincial prefix
    assert stored_service["areaCode"] == "430100000000" and stored_service["taskCode"] == cast.item_a.code
    assert stored_service["userName"] == "王**"  # masked; nothing else of the applicant goes up
    assert not {"creditNum", "creditType", "mobile", "certKey"} & set(stored_service)
    assert "13812345678" not in json.dumps(got) and "王小明" not in json.dumps(got, ensure_ascii=False)
    assert (stored_rating["satisfaction"], stored_rating["pf"], stored_rating["assessNumber"]) == (5, "4", 1)
    assert got["outcomes"]["rating"]["duplicate"] >= 1
    assert "省级好差评平台（模拟）" in hmac_platform.page()


def test_each_refused_record_carries_the_provinces_reason_and_the_rest_go_in(cast, settings, hmac_platform):
    to_province(settings, hmac_platform, prefix="B-")
    case = finished_case(cast, "CS-0001")
    unsent = finished_case(cast, "CS-0002", seq=2)
    other = finished_case(cast, "CS-0003", seq=3)
    bad_area = service(other)
    bad_area["data"]["areaCode"] = "4301"
    records = [
        service(case),
        bad_area,
        rating(rate(case, "very_dissatisfied", reason_codes=[], comment="")),  # a 差评 with no reason
        rating(rate(unsent)),  # its service record never sent
        rating(rate(other, channel="hotline_12345")),  # no pf code for 12345 in the national table
    ]
    got = [(x["status"], x["code"], x["message"]) for x in ProvinceClient().upload(records)]
    assert got == [
        ("accepted", "", ""),
        ("rejected", "province_1002", "区划代码 areaCode 应为12位数字"),
        ("rejected", "province_1008", "差评必须勾选详情或填写文字评价"),
        ("rejected", "service_record_missing", "没有对应的服务数据"),
        ("rejected", "province_1005", "评价渠道 pf“hotline_12345”不在代码表中"),
    ]
    assert len(mine(hmac_platform.received()["services"], "B-")) == 1


def test_the_worker_uploads_to_the_province_with_per_record_states(cast, settings, hmac_platform):
    to_province(settings, hmac_platform, prefix="C-")
    good = rate(finished_case(cast, "CS-0001"), "dissatisfied", reason_codes=["OF402"], comment="排队太久")
    phoned = rate(finished_case(cast, "CS-0002", seq=2), channel="hotline_12345")
    round_trip()
    rows = {(r.kind, r.object_id): r for r in Upload.objects.all()}
    assert rows[(RecordKind.RATING, good.pk)].status == S.ACCEPTED
    refused = rows[(RecordKind.RATING, phoned.pk)]
    assert (refused.status, refused.reject_code) == (S.REJECTED, "province_1005")
    assert refused.reject_reason == "评价渠道 pf“hotline_12345”不在代码表中"
    assert {r.status for k, r in rows.items() if k[0] == RecordKind.SERVICE} == {S.ACCEPTED}

    # An upheld appeal goes up as effectivEvalua 0 on the province's copy.
    RatingFlag.objects.create(rating=good, kind="invalid", reason="申诉成立")
    round_trip()
    assert Upload.objects.get(kind=RecordKind.VALIDITY).status == S.ACCEPTED
    [stored] = [r for r in mine(hmac_platform.received()["ratings"], "C-") if r["satisfaction"] == 2]
    assert stored["effectivEvalua"] == "0"

    # The answers were lost (a worker killed before it wrote them): sent again, nothing doubles upstairs.
    before = hmac_platform.received()
    Upload.objects.filter(status=S.ACCEPTED).update(status=S.QUEUED)
    round_trip()
    after = hmac_platform.received()
    assert after["counts"] == before["counts"]
    assert after["outcomes"]["rating"]["duplicate"] == before["outcomes"]["rating"]["duplicate"] + 1
    assert Upload.objects.filter(status=S.ACCEPTED).count() == 4  # 2 services, 1 rating, 1 validity


def test_a_rating_whose_service_record_is_missing_upstairs_is_sent_again_after_it(
    cast, settings, hmac_platform
):
    to_province(settings, hmac_platform, prefix="D-")
    rate(finished_case(cast, "CS-0001"))
    upload.collect()
    Upload.objects.filter(kind=RecordKind.SERVICE).update(status=S.REJECTED, reject_code="item_not_found")
    round_trip()
    row = Upload.objects.get(kind=RecordKind.RATING)
    assert (row.status, row.reject_code, row.reject_reason) == (
        S.RETRYING,
        "service_record_missing",
        "没有对应的服务数据",
    )
    assert row.next_attempt_at > timezone.now()  # backoff: not sent again at once
    upload.requeue(kind=RecordKind.SERVICE)  # 重新上报 after correction
    Upload.objects.filter(kind=RecordKind.RATING).update(next_attempt_at=timezone.now())
    round_trip()
    assert set(Upload.objects.values_list("status", flat=True)) == {S.ACCEPTED}


def test_sm2_signed_sm4_encrypted_upload_with_signed_answers(cast, settings, sm2_platform, sm2_keys):
    to_province(
        settings,
        sm2_platform,
        prefix="E-",
        SIGNING="sm2-sm3",
        SECRET="",
        SM2_PRIVATE_KEY=sm2_keys["child_private"],
        SM2_PUBLIC_KEY=sm2_keys["platform_public"],
        SM4_KEY=sm2_keys["sm4"],
    )
    rate(finished_case(cast, "CS-0001"), "very_dissatisfied", comment="材料被退回三次")
    round_trip()
    assert set(Upload.objects.values_list("status", flat=True)) == {S.ACCEPTED}
    got = sm2_platform.received()
    [stored] = mine(got["ratings"], "E-")
    assert (stored["satisfaction"], stored["writingEvaluation"]) == (1, "材料被退回三次")
    assert got["refused_calls"] == []


def test_a_request_signed_with_another_key_is_refused_and_retried_later(
    cast, settings, sm2_platform, sm2_keys
):
    forger, _ = gm.sm2_keypair()
    to_province(
        settings,
        sm2_platform,
        prefix="F-",
        SIGNING="sm2-sm3",
        SM2_PRIVATE_KEY=forger,
        SM4_KEY=sm2_keys["sm4"],
    )
    finished_case(cast, "CS-0001")
    round_trip()
    row = Upload.objects.get()
    assert row.status == S.RETRYING and "签名验证失败（4005）" in row.last_error
    assert not mine(sm2_platform.received()["services"], "F-")


def test_an_answer_not_signed_by_the_platform_is_not_believed(cast, settings, sm2_platform, sm2_keys):
    _, impostor_public = gm.sm2_keypair()
    to_province(
        settings,
        sm2_platform,
        prefix="G-",
        SIGNING="sm2-sm3",
        SM2_PRIVATE_KEY=sm2_keys["child_private"],
        SM2_PUBLIC_KEY=impostor_public,
        SM4_KEY=sm2_keys["sm4"],
    )
    case = finished_case(cast, "CS-0001")
    with pytest.raises(ParentUnavailable, match="答复的签名无效"):
        ProvinceClient().upload([service(case)])


def test_stale_replayed_and_unencrypted_requests_are_refused(sm2_platform, sm2_keys):
    agreement = protocol.Agreement(
        app_id=APP_ID,
        scheme=signing.SM2_SM3,
        key=sm2_keys["child_private"],
        sm4_key=bytes.fromhex(sm2_keys["sm4"]),
    )
    path = protocol.CALLS["service"]
    body, headers = protocol.seal(agreement, path, {"records": [{"projectNo": "H-1"}]})
    status, answer = sm2_platform.post(path, body, headers)
    assert status == 200 and answer[protocol.BODY]["results"][0]["code"] == "1001"  # signed, opened, checked
    assert sm2_platform.post(path, body, headers)[1][protocol.CODE] == "4006"  # the same request again

    stale = str(int(time.time()) - 3600)
    headers.update({protocol.TIMESTAMP: stale, protocol.NONCE: "a" * 32})
    headers[protocol.SIGNATURE] = signing.SM2_SM3.sign(agreement.key, "POST", path, stale, "a" * 32, body)
    status, answer = sm2_platform.post(path, body, headers)
    assert (status, answer[protocol.CODE]) == (403, "4004")

    plain = protocol.Agreement(app_id=APP_ID, scheme=signing.SM2_SM3, key=sm2_keys["child_private"])
    body, headers = protocol.seal(plain, path, {"records": [{"projectNo": "H-2"}]})
    status, answer = sm2_platform.post(path, body, headers)
    assert (status, answer[protocol.CODE]) == (400, "4007")
    assert "报文加密方式与约定不符" in answer[protocol.DESC]


def test_keygen_prints_keys_that_sign_and_verify():
    out = io.StringIO()
    call_command("province", "keygen", stdout=out)
    text = out.getvalue()
    private = text.split("HAOCHA_PARENT_SM2_PRIVATE_KEY=")[1].split()[0]
    public = text.split("本系统的 SM2 公钥）：")[1].split()[0]
    assert gm.sm2_public_of(private) == public
    assert len(text.split("HAOCHA_PARENT_SM4_KEY=")[1].split()[0]) == 32


@pytest.mark.parametrize(
    "changes, check",
    [
        ({"HAOCHA_PARENT_PROTOCOL": "soap"}, "haocha.province.E001"),
        ({"HAOCHA_PARENT_SIGNING": "rsa"}, "haocha.province.E002"),
        ({"HAOCHA_PARENT_SIGNING": "sm2-sm3"}, "haocha.province.E003"),  # a haocha parent checks HMAC only
        (
            {"HAOCHA_PARENT_PROTOCOL": "provincial", "HAOCHA_PARENT_SIGNING": "sm2-sm3"},
            "haocha.province.E004",
        ),
        ({"HAOCHA_PARENT_SM2_PUBLIC_KEY": "04abcd"}, "haocha.province.E005"),
        ({"HAOCHA_PARENT_SM4_KEY": "0011"}, "haocha.province.E006"),
        ({"HAOCHA_PARENT_SM4_MODE": "gcm"}, "haocha.province.E007"),
    ],
)
def test_an_agreement_that_cannot_work_is_refused_at_start(db, settings, changes, check):
    settings.HAOCHA_PARENT_URL = "http://province.invalid"
    for name, value in changes.items():
        setattr(settings, name, value)
    with pytest.raises(SystemCheckError, match=check):
        call_command("check")


def test_a_call_without_records_is_refused(hmac_platform):
    agreement = protocol.Agreement(app_id=APP_ID, scheme=signing.HMAC_SHA256, key=SECRET)
    body, headers = protocol.seal(agreement, protocol.CALLS["rating"], {"records": []})
    status, answer = hmac_platform.post(protocol.CALLS["rating"], body, headers)
    assert (status, answer[protocol.CODE]) == (400, "4008")
    status, answer = hmac_platform.post("/addSomething", body, headers)
    assert status == 404


def test_the_interface_document_names_every_code():
    """docs/interface.md keeps up with the code: every refusal the parent, the rule book and the stand-in give."""
    import re

    from haocha.evaluations.rules import RULES

    root = Path(__file__).resolve().parent.parent
    doc = (root / "docs" / "interface.md").read_text()
    source = {
        name: (root / "haocha" / name).read_text()
        for name in (
            "integrations/docking/receive.py",
            "integrations/docking/national.py",
            "integrations/province/standin.py",
            "integrations/province/protocol.py",
        )
    }
    parent = set(re.findall(r'(?:code=|REJECTED, )"([a-z_]+)"', source["integrations/docking/receive.py"]))
    parent |= set(re.findall(r'code="([a-z_]+)"', source["integrations/docking/national.py"]))
    platform = set(
        re.findall(r'(?:Bad\(|Refused\(\d+, )"(\d{4})"', source["integrations/province/standin.py"])
    )
    platform |= set(re.findall(r'Refused\(\d+, "(\d{4})"', source["integrations/province/protocol.py"]))
    assert len(parent) > 10 and len(platform) > 20
    missing = sorted(c for c in parent | set(RULES) if f"`{c}`" not in doc)
    missing += sorted(c for c in platform if f"`{c}`" not in doc)
    assert not missing, f"not in docs/interface.md: {missing}"
