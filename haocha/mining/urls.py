from django.urls import path

from haocha.mining import views

app_name = "mining"

urlpatterns = [
    path("", views.themes_page, name="page"),
    path("themes/", views.themes_fragment, name="themes"),
    path("comments/", views.comments_page, name="comments"),
    path("replies/", views.replies_page, name="replies"),
    path("export.xlsx", views.export_xlsx, name="export"),
]
