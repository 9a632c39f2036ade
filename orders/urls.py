from django.urls import path

from orders import views

app_name = "orders"
urlpatterns = [
    path("", views.order_list, name="list"),
    path("<uuid:pk>/", views.order_detail, name="detail"),
    path("<uuid:pk>/status.json", views.order_status, name="status"),
    path("<uuid:pk>/pay/", views.order_pay, name="pay"),
    path("<uuid:pk>/cancel/", views.order_cancel, name="cancel"),
]
