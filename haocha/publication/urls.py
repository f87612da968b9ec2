from django.urls import path, register_converter

from haocha.publication import views


class MonthConverter:
    regex = r"\d{4}-\d{2}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(MonthConverter, "month")

app_name = "publication"

urlpatterns = [
    path("notices/", views.notices_index, name="notices"),
    path("notices/<str:code>/<month:month>/", views.notice_page, name="notice"),
    path("notices/<str:code>/<month:month>/notice.xlsx", views.notice_xlsx, name="notice_xlsx"),
    path("notices/<str:code>/<month:month>/publish/", views.notice_publish, name="notice_publish"),
    path("public/", views.public_index, name="public"),
    path("public/notices/", views.public_notices, name="public_notices"),
    path("public/notices/<str:code>/<month:month>/", views.public_notice, name="public_notice"),
    path(
        "public/notices/<str:code>/<month:month>/notice.xlsx",
        views.public_notice_xlsx,
        name="public_notice_xlsx",
    ),
    path("public/departments/<int:pk>/", views.public_department, name="public_department"),
    path("public/reviews/", views.public_reviews_page, name="public_reviews"),
]
