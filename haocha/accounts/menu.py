"""The pages of the site and the roles that open them: one table drives the top menu, the work-order tabs,
each role's landing page and the 403 a page gives to a role it is not for."""

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.decorators import login_required

from haocha.accounts.access import Actor, actor_for_user
from haocha.accounts.models import Role
from haocha.core.errors import Forbidden
from haocha.organisations.models import Staff

EVERYONE = "everyone"  # signed in or not
VISITORS = "visitors"  # citizens: not signed in
STAFF = "staff"  # signed in, with the roles listed
WINDOW_STAFF = "window_staff"  # signed in, with a record as window staff (the desk is theirs, whatever role)

ALL_ROLES = tuple(Role.values)


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    url: str
    audience: str = STAFF
    roles: tuple[str, ...] = ()
    for_admin: bool = True  # a system administrator opens it whatever the roles listed
    menu: bool = True  # shown in the top menu (the work-order tabs are shown inside the workbench)

    def open_to(self, user, actor: Actor | None) -> bool:
        if self.audience == EVERYONE:
            return True
        signed_in = user is not None and user.is_authenticated
        if self.audience == VISITORS:
            return not signed_in
        if not signed_in or actor is None:
            return False
        if self.audience == WINDOW_STAFF:
            return is_window_staff(user)
        if actor.all_access and self.for_admin:
            return True
        return bool(actor.roles.intersection(self.roles))


S = Role
PAGES: tuple[Page, ...] = (
    Page("home", "首页", "/", EVERYONE),
    Page("public", "结果公开", "/public/", EVERYONE),
    Page("my", "我的办件", "/my/", VISITORS),
    Page("desk", "窗口上岗", "/desk/", WINDOW_STAFF),
    Page("workorders", "差评工单", "/workorders/",
         roles=(S.OPERATOR_12345, S.SUPERVISOR, S.DEPARTMENT_ADMIN, S.HANDLER, S.WINDOW_CLERK)),
    Page("ratings", "评价记录", "/ratings/",
         roles=(S.SUPERVISOR, S.DEPARTMENT_ADMIN, S.HANDLER, S.OPERATOR_12345)),
    Page("stats", "统计分析", "/stats/", roles=(S.SUPERVISOR, S.DEPARTMENT_ADMIN, S.HANDLER)),
    Page("notices", "通报", "/notices/", roles=(S.SUPERVISOR,)),
    Page("assessment", "年度考核", "/assessment/", roles=(S.SUPERVISOR,)),
    Page("mining", "差评挖掘", "/mining/", roles=(S.SUPERVISOR, S.DEPARTMENT_ADMIN, S.HANDLER)),
    Page("channels", "评价渠道", "/channels/", roles=(S.WINDOW_CLERK, S.DEPARTMENT_ADMIN, S.SUPERVISOR)),
    Page("docking", "上下级对接", "/docking/", roles=(S.SUPERVISOR,)),
    Page("hotline12345", "12345平台对接", "/hotline12345/", roles=(S.SUPERVISOR, S.OPERATOR_12345)),
    Page("messages", "消息", "/workorders/messages/", roles=ALL_ROLES),
    Page("api_docs", "接口文档", "/api/docs", roles=(S.SYSTEM_ADMIN,)),
    Page("admin", "管理后台", "/admin/", roles=(S.SYSTEM_ADMIN,)),
    # The work-order workbench's tabs.
    Page("wo_operator", "12345 核实交办", "/workorders/queue/operator/",
         roles=(S.OPERATOR_12345, S.SUPERVISOR), menu=False),
    Page("wo_department", "部门办理", "/workorders/queue/department/",
         roles=(S.HANDLER, S.DEPARTMENT_ADMIN, S.WINDOW_CLERK), menu=False),
    Page("wo_board", "监管看板", "/workorders/board/", roles=(S.SUPERVISOR,), menu=False),
    Page("performance", "成效管理系统推送", "/assessment/performance/", roles=(S.SUPERVISOR,), menu=False),
)  # fmt: skip
BY_KEY = {p.key: p for p in PAGES}
WORKORDER_TABS = ("wo_operator", "wo_department", "wo_board")

# Where each role starts after signing in: the first line whose role the user holds (window staff with no
# role start at the desk too).
LANDING: tuple[tuple[str, str], ...] = (
    (Role.WINDOW_CLERK, "desk"),
    (Role.SUPERVISOR, "wo_board"),
    (Role.OPERATOR_12345, "wo_operator"),
    (Role.DEPARTMENT_ADMIN, "wo_department"),
    (Role.HANDLER, "wo_department"),
    (Role.SYSTEM_ADMIN, "admin"),
)


def page_roles(key: str) -> tuple[str, ...]:
    return BY_KEY[key].roles


def _actor(user) -> Actor | None:
    return actor_for_user(user) if user is not None and user.is_authenticated else None


def menu_for(user) -> list[Page]:
    actor = _actor(user)
    return [p for p in PAGES if p.menu and p.open_to(user, actor)]


def workorder_tabs_for(user) -> list[Page]:
    actor = _actor(user)
    return [BY_KEY[k] for k in WORKORDER_TABS if BY_KEY[k].open_to(user, actor)]


def landing_url(user) -> str:
    actor = _actor(user)
    if actor is None:
        return "/"
    for role, key in LANDING:
        if role in actor.roles and BY_KEY[key].open_to(user, actor):
            return BY_KEY[key].url
    if actor.all_access:
        return BY_KEY["admin"].url
    if BY_KEY["desk"].open_to(user, actor):
        return BY_KEY["desk"].url
    return "/"


def is_window_staff(user) -> bool:
    cached = getattr(user, "_haocha_window_staff", None)
    if cached is None:
        cached = Staff.objects.filter(user=user, is_active=True).exists()
        user._haocha_window_staff = cached
    return cached


def role_names(actor: Actor) -> str:
    if actor.user is not None and actor.user.is_superuser and not actor.roles:
        return "超级管理员"
    return "、".join(Role(r).label for r in Role.values if r in actor.roles) or "无"


def refusal(page: Page, actor: Actor) -> Forbidden:
    """The 403 a page gives a role it is not for: which page, the roles it is for, the roles one holds."""
    allowed = "、".join(Role(r).label for r in page.roles)
    return Forbidden(
        f"“{page.label}”仅向{allowed}开放；您的账号角色：{role_names(actor)}。如需使用，请联系系统管理员分配角色。",
        code="role_required",
    )


def check_page(request, key: str) -> Actor:
    page = BY_KEY[key]
    actor = actor_for_user(request.user)
    if not page.open_to(request.user, actor):
        raise refusal(page, actor)
    return actor


def page_view(key: str):
    """A staff page's view: sign-in required, then the roles the table gives the page (else a 403 saying so)."""
    BY_KEY[key]  # fails at import for an unknown key

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            check_page(request, key)
            return view(request, *args, **kwargs)

        return login_required(wrapper)

    return decorate


def menu_context(request) -> dict:
    """Context processor: the top menu, who is signed in (person, role, unit), the work-order tabs."""
    user = getattr(request, "user", None)
    path = request.path
    items = menu_for(user)
    current = max(
        (p for p in items if p.url != "/" and path.startswith(p.url)), key=lambda p: len(p.url), default=None
    )
    if current is None and path == "/":
        current = BY_KEY["home"]
    context = {"menu": items, "menu_current": current.key if current else ""}
    if user is not None and user.is_authenticated:
        context.update(who_roles=role_scopes(user), workorder_tabs=workorder_tabs_for(user))
    return context


def role_scopes(user) -> str:
    """The roles of a user with where each is held, for the top bar: "监管人员（长沙市）"."""
    parts = []
    for a in user.roles.select_related("region", "organisation").order_by("role", "pk"):
        scope = a.region or a.organisation
        parts.append(f"{a.get_role_display()}（{scope.name}）" if scope else a.get_role_display())
    if not parts and user.is_superuser:
        parts.append("超级管理员")
    return "、".join(parts)
