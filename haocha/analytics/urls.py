from django.urls import path

from haocha.analytics import views

app_name = "stats"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("rankings/", views.rankings, name="rankings"),
    path("export/", views.export, name="export"),
]
