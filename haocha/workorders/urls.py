from django.urls import path

from haocha.workorders import views

app_name = "workorders"

urlpatterns = [
    path("", views.home, name="home"),
    path("queue/operator/", views.operator_queue, name="operator"),
    path("queue/department/", views.department_queue, name="department"),
    path("board/", views.supervisor_board, name="board"),
    path("messages/", views.messages_page, name="messages"),
    path("<str:number>/", views.order_page, name="order"),
    path("<str:number>/act/<str:action>/", views.order_action, name="act"),
    path("<str:number>/contact-details/", views.contact_details, name="contact_details"),
    path("<str:number>/files/<int:transition_id>/<int:index>/", views.attachment, name="attachment"),
]
