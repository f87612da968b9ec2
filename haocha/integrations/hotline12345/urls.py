from django.urls import path

from haocha.integrations.hotline12345 import views

app_name = "hotline12345"
urlpatterns = [
    path("", views.index, name="index"),
    path("requeue/", views.requeue, name="requeue"),
]
