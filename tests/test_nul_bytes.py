"""NUL characters anywhere a request carries them are a 4xx (JSON under /api/), never a 500: PostgreSQL
refuses them even as query parameters."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client


@pytest.fixture
def quiet():
    return Client(raise_request_exception=False)


@pytest.mark.parametrize(
    "path",
    [
        "/public/notices/4301%00/2026-11/",
        "/public/departments/1%00/",
        "/notices/430100%00/2026-11/",
        "/workorders/HCP%00/",
        "/r/abc%00def/",
        "/tablet/A%0001/",
    ],
)
def test_a_nul_in_a_page_path_is_a_400(cast, quiet, path):
    r = quiet.get(path)
    assert r.status_code == 400 and "空字符" in r.content.decode()


@pytest.mark.parametrize(
    "path", ["/api/cases/abc%00def", "/api/channels/cases/a%00b/state", "/api/ratings?case_no=a%00b"]
)
def test_a_nul_in_an_api_path_or_query_is_a_json_422(cast, quiet, path):
    r = quiet.get(path, headers={"X-Api-Key": cast.key_city})
    assert r.status_code == 422 and r.json()["code"] == "invalid_character"


def test_a_nul_in_a_cookie_is_a_400(cast, quiet):
    quiet.cookies["sessionid"] = "abc\x00def"
    assert quiet.get("/public/").status_code == 400
    quiet.cookies["sessionid"] = "abc%00def"
    assert quiet.get("/api/regions").status_code == 422


def test_a_nul_in_a_multipart_field_is_a_400_and_in_a_file_name_no_500(cast, quiet):
    quiet.force_login(cast.handler_a)
    r = quiet.post("/workorders/HCP1/feedback/", {"result": "已处理\x00", "measures": "x"})
    assert r.status_code == 400
    upload = SimpleUploadedFile(
        "证明\x00.pdf", b"%PDF-1.4 \x00 binary content is fine", content_type="application/pdf"
    )
    r = quiet.post("/workorders/HCP1/feedback/", {"result": "已处理", "attachments": upload})
    assert 400 <= r.status_code < 500  # Django's parser drops the NUL from file names; never a 500


def test_binary_file_content_with_nul_bytes_is_not_refused(cast, quiet):
    quiet.force_login(cast.handler_a)
    upload = SimpleUploadedFile("证明.pdf", b"%PDF-1.4 \x00\x00 binary", content_type="application/pdf")
    r = quiet.post("/workorders/NO-SUCH-ORDER/feedback/", {"result": "已处理", "attachments": upload})
    assert r.status_code == 404  # past the NUL check: the order does not exist
