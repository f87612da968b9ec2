"""The zh-hans admin, audit of administrative changes, argon2 passwords, login throttling, migrations."""

from io import StringIO

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from haocha.core.models import AuditLog
from haocha.organisations.models import Organisation
from tests.factories import PASSWORD, finished_case

pytestmark = pytest.mark.django_db


def test_every_admin_page_opens_in_chinese(cast, client):
    finished_case(cast, "AD-1")
    client.force_login(cast.admin)
    r = client.get("/admin/")
    assert r.status_code == 200 and "系统管理" in r.content.decode()
    for model in admin.site._registry:
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url
        first = model.objects.first()
        if first is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk])
            assert client.get(change).status_code == 200, change


def test_case_admin_never_shows_a_full_identity(cast, client):
    case = finished_case(cast, "AD-2")
    client.force_login(cast.admin)
    page = client.get(reverse("admin:catalogue_case_change", args=[case.pk])).content.decode()
    page += client.get(reverse("admin:catalogue_case_changelist")).content.decode()
    assert "13812345678" not in page and case.applicant_id_masked in page


def test_admin_changes_are_audited_and_keep_the_tree(cast, client):
    client.force_login(cast.admin)
    url = reverse("admin:organisations_organisation_add")
    r = client.post(
        url,
        {
            "name": "长沙市民之家不动产分厅",
            "short_name": "",
            "kind": "branch_hall",
            "credit_code": "",
            "region": cast.city.pk,
            "parent": cast.hall.pk,
            "address": "",
            "phone": "",
            "is_active": "on",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    branch = Organisation.objects.get(name="长沙市民之家不动产分厅")
    assert branch.path == f"{cast.hall.path}{branch.pk}/"
    entry = AuditLog.objects.get(action="admin_add", object_id=str(branch.pk))
    assert entry.actor == cast.admin


def test_a_department_needs_a_valid_credit_code(cast, client):
    client.force_login(cast.admin)
    r = client.post(
        reverse("admin:organisations_organisation_add"),
        {
            "name": "某局",
            "kind": "department",
            "credit_code": "11430100000000001X",
            "region": cast.city.pk,
            "is_active": "on",
        },
    )
    assert r.status_code == 200 and "统一社会信用代码格式或校验位不正确" in r.content.decode()


def test_passwords_use_argon2(db, settings):
    from django.conf import settings as live
    from django.contrib.auth.hashers import make_password

    from haocha import settings as project_settings

    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    assert live.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert make_password("Haocha-test-2026!").startswith("argon2$")


def _login(client, username, password, address):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_repeated_failures_lock_the_username_at_that_address_only(cast, client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        assert _login(client, "supervisor", "wrong-password", "10.1.1.1").status_code == 200
    assert _login(client, "supervisor", "wrong-password", "10.1.1.1").status_code == 429  # the third locks
    r = _login(client, "supervisor", PASSWORD, "10.1.1.1")  # the right password no longer gets in there
    assert r.status_code == 429 and "已被暂时锁定" in r.content.decode()
    assert "_auth_user_id" not in client.session
    r = client.post("/admin/login/", {"username": "supervisor", "password": PASSWORD}, REMOTE_ADDR="10.1.1.1")
    assert r.status_code == 429  # the admin's login form is the same door
    # The owner, from their own desk, is not locked out by a stranger guessing their password.
    r = _login(client, "supervisor", PASSWORD, "10.2.2.2")
    assert r.status_code == 302 and "_auth_user_id" in client.session
    assert AuditLog.objects.filter(action="login_failed").count() == 3
    # The lockout and each attempt refused during it are audited, with the address.
    locked = AuditLog.objects.filter(action="login_locked")
    assert locked.count() == 3
    assert {(a.actor_label, "10.1.1.1" in a.summary) for a in locked} == {("supervisor", True)}


def test_many_usernames_tried_from_one_address_lock_that_address(cast, client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_ADDRESS_FAILURE_LIMIT = 10
    for i in range(9):
        assert _login(client, f"user{i:02d}", "wrong-password", "10.3.3.3").status_code == 200
    assert _login(client, "user09", "wrong-password", "10.3.3.3").status_code == 429
    assert _login(client, "operator", PASSWORD, "10.3.3.3").status_code == 429
    assert _login(client, "operator", PASSWORD, "10.4.4.4").status_code == 302
    assert AuditLog.objects.filter(action="login_locked", summary__contains="10.3.3.3").exists()


def test_a_forged_forwarded_for_header_does_not_dodge_the_address_limit(cast, client, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for i in range(2):
        client.post(
            "/login/",
            {"username": "supervisor", "password": "wrong"},
            REMOTE_ADDR="10.6.6.6",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{i}",
        )
    r = client.post(
        "/login/",
        {"username": "supervisor", "password": PASSWORD},
        REMOTE_ADDR="10.6.6.6",
        HTTP_X_FORWARDED_FOR="192.0.2.99",
    )
    assert r.status_code == 429


def test_a_good_login_resets_the_failures_of_that_username_and_address(cast, client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        _login(client, "handler_a", "wrong-password", "10.5.5.5")
    assert _login(client, "handler_a", PASSWORD, "10.5.5.5").status_code == 302
    client.logout()
    for _ in range(2):
        _login(client, "handler_a", "wrong-password", "10.5.5.5")
    assert _login(client, "handler_a", PASSWORD, "10.5.5.5").status_code == 302


def test_a_good_login_works_and_is_audited(cast, client):
    r = client.post("/admin/login/?next=/admin/", {"username": "supervisor", "password": PASSWORD})
    assert r.status_code == 302
    assert AuditLog.objects.filter(action="login", actor=cast.supervisor).exists()


def test_no_model_change_lacks_a_migration():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exc:
        if exc.code:
            pytest.fail(f"models changed without a migration:\n{out.getvalue()}")


def test_staff_sign_in_on_the_workbench_login_page(cast, client):
    page = client.get("/login/").content.decode()
    assert "工作人员登录" in page
    r = client.post(
        "/login/?next=/workorders/", {"username": "handler_a", "password": PASSWORD, "next": "/workorders/"}
    )
    assert r.status_code == 302 and r.headers["Location"] == "/workorders/"
    assert client.get("/workorders/", follow=True).status_code == 200
    r = client.post("/login/", {"username": "handler_a", "password": "wrong"})
    assert r.status_code == 200 and "用户名或密码不正确" in r.content.decode()
    assert client.get("/workorders/queue/department/").status_code == 200


def test_workbenches_need_a_login(client):
    r = client.get("/workorders/queue/operator/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login/")


def test_the_system_administrator_role_administers_without_the_superuser_flag(cast, client):
    from haocha.accounts.models import Role, RoleAssignment

    RoleAssignment.objects.create(user=cast.operator, role=Role.SYSTEM_ADMIN)
    client.force_login(cast.operator)
    assert client.get("/admin/organisations/organisation/").status_code == 200
    other = type(cast.operator).objects.get(username="handler_b")
    client.force_login(other)
    assert client.get("/admin/organisations/organisation/").status_code == 403


def test_role_grants_and_password_changes_in_the_admin_are_audited(cast, client):
    client.force_login(cast.admin)
    user = cast.handler_b
    url = reverse("admin:accounts_user_change", args=[user.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    data = {
        k: v
        for k, v in form.initial.items()
        if v is not None and k not in ("groups", "user_permissions", "password")
    }
    data.update(
        {
            "date_joined_0": "2026-01-01",
            "date_joined_1": "09:00:00",
            "last_login_0": "",
            "last_login_1": "",
            "roles-TOTAL_FORMS": "2",
            "roles-INITIAL_FORMS": "1",
            "roles-MIN_NUM_FORMS": "0",
            "roles-MAX_NUM_FORMS": "1000",
        }
    )
    existing = user.roles.get()
    data.update(
        {
            "roles-0-id": existing.pk,
            "roles-0-user": user.pk,
            "roles-0-role": existing.role,
            "roles-0-organisation": existing.organisation_id or "",
            "roles-0-region": "",
            "roles-1-user": user.pk,
            "roles-1-role": "system_admin",
            "roles-1-region": "",
            "roles-1-organisation": "",
        }
    )
    for key in ("is_active", "is_staff"):
        data[key] = "on"
    data.pop("is_superuser", None)
    r = client.post(url, data)
    assert r.status_code == 302, r.content.decode()[:3000]
    assert AuditLog.objects.filter(action="admin_add", object_type="accounts.roleassignment").exists()
    r = client.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": "Another-pass-2026", "password2": "Another-pass-2026", "usable_password": "true"},
    )
    assert r.status_code == 302
    assert AuditLog.objects.filter(action="admin_change", object_id=str(user.pk), summary="修改密码").exists()
