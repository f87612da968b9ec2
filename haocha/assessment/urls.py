from django.urls import path

from haocha.assessment import views

app_name = "assessment"
urlpatterns = [
    path("", views.index, name="index"),
    path("assessment.xlsx", views.xlsx, name="xlsx"),
    path("performance/", views.performance, name="performance"),
    path("performance/push/", views.push, name="push"),
    path("performance/repush/", views.repush, name="repush"),
]
