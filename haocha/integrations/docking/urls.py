from django.urls import path

from haocha.integrations.docking import views

app_name = "docking"
urlpatterns = [
    path("", views.index, name="index"),
    path("requeue/", views.requeue, name="requeue"),
    path("children/<int:pk>/", views.child_detail, name="child"),
    path("lookup/<str:number>/", views.case_lookup, name="lookup"),
]
