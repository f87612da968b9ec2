from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.static import serve

from haocha.accounts import views as account_views
from haocha.api import api
from haocha.core import views as core_views
from haocha.publication import views as publication_views
from haocha.workorders import views as workorder_views

handler400 = "haocha.core.views.bad_request"
handler403 = "haocha.core.views.permission_denied"
handler404 = "haocha.core.views.page_not_found"
handler500 = "haocha.core.views.server_error"

admin.site.site_header = "haocha 政务服务好差评平台"
admin.site.site_title = "好差评管理"
admin.site.index_title = "系统管理"

urlpatterns = [
    path("", publication_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("start/", account_views.start, name="start"),
    path("logout/", auth_views.LogoutView.as_view(next_page="/"), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("workorders/", include("haocha.workorders.urls")),
    path("stats/", include("haocha.analytics.urls")),
    path("mining/", include("haocha.mining.urls")),
    path("docking/", include("haocha.integrations.docking.urls")),
    path("hotline12345/", include("haocha.integrations.hotline12345.urls")),
    path("assessment/", include("haocha.assessment.urls")),
    path("", include("haocha.publication.urls")),
    path("c/<str:token>/", workorder_views.citizen_page, name="citizen"),
    path("", include("haocha.channels.urls")),
    path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}),
]
