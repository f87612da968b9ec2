from django.urls import path, re_path

from haocha.channels.views import citizen, desk, devices, mycases, ratings, staff, tablet, terminal

app_name = "channels"

urlpatterns = [
    # Citizens: signed case links, the embeddable snippet, a window's QR code, 我的办件.
    path("r/<str:token>/", citizen.rating_page, name="rating_page"),
    path("embed/<str:token>/", citizen.embed, name="embed"),
    path("w/<str:token>/", citizen.window_page, name="window_page"),
    path("my/", mycases.my_cases, name="my_cases"),
    path("my/login/", mycases.my_login, name="my_login"),
    path("my/verify/", mycases.my_verify, name="my_verify"),
    path("my/logout/", mycases.my_logout, name="my_logout"),
    # Registered devices: the window tablet and the self-service terminal.
    path("devices/activate/<str:code>/", devices.activate, name="activate"),
    path("tablet/sw.js", tablet.tablet_service_worker, name="tablet_service_worker"),
    path("tablet/<str:window_code>/", tablet.tablet_page, name="tablet"),
    path("tablet/<str:window_code>/state", tablet.tablet_state_json, name="tablet_state"),
    path("tablet/<str:window_code>/ratings", tablet.tablet_rating, name="tablet_rating"),
    path("terminal/", terminal.start, name="terminal"),
    path("terminal/code/", terminal.code, name="terminal_code"),
    path("terminal/cases/", terminal.cases, name="terminal_cases"),
    path("terminal/rate/<str:case_no>/", terminal.rate, name="terminal_rate"),
    path("terminal/done/", terminal.done, name="terminal_done"),
    path("terminal/scan/", terminal.scan_code, name="terminal_scan"),
    path("terminal/reset/", terminal.reset, name="terminal_reset"),
    path("terminal/alive/", terminal.alive, name="terminal_alive"),
    # Staff: the clerk's own screen, channels and devices, QR codes and printouts, ratings.
    path("desk/", desk.desk, name="desk"),
    path("desk/feed/", desk.desk_feed, name="desk_feed"),
    path("desk/duty/", desk.desk_duty, name="desk_duty"),
    path("desk/serving/", desk.desk_serving, name="desk_serving"),
    path("channels/", staff.channels_page, name="channels"),
    path("channels/windows/<str:window_code>/tablet/", staff.tablet_register, name="tablet_register"),
    re_path(
        r"^channels/windows/(?P<window_code>[^/]+)/qr\.(?P<fmt>png|svg)$", staff.window_qr, name="window_qr"
    ),
    path("channels/windows/<str:window_code>/sign/", staff.window_sign, name="window_sign"),
    path("channels/halls/<int:hall_id>/terminals/", staff.terminal_register, name="terminal_register"),
    path("channels/devices/<str:code>/reissue/", staff.device_reissue, name="device_reissue"),
    path("channels/devices/<str:code>/stop/", staff.device_stop, name="device_stop"),
    re_path(r"^channels/cases/(?P<case_no>[^/]+)/qr\.(?P<fmt>png|svg)$", staff.case_qr, name="case_qr"),
    path("channels/cases/<str:case_no>/notice/", staff.case_notice, name="case_notice"),
    path("channels/notice/", staff.notice_lookup, name="notice_lookup"),
    path("ratings/", ratings.rating_list, name="ratings"),
    path("ratings/<str:rating_id>/", ratings.rating_detail, name="rating_detail"),
]
