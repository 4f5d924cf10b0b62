"""Back-office URLs (DESIGN: "URLs"): one POST endpoint per action."""

from django.urls import path

from staff import views

app_name = "staff"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("orders/", views.OrderListView.as_view(), name="order-list"),
    path("orders/export/", views.OrderExportView.as_view(), name="order-export"),
    path("deliveries/", views.DeliveryListView.as_view(), name="deliveries"),
    path("orders/new/", views.PhoneOrderView.as_view(), name="order-new"),
    path("orders/<str:number>/", views.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<str:number>/print/", views.OrderPrintView.as_view(), name="order-print"),
    path("orders/<str:number>/confirm/", views.OrderConfirmView.as_view(), name="order-confirm"),
    path(
        "orders/<str:number>/invalidate/",
        views.OrderInvalidateView.as_view(),
        name="order-invalidate",
    ),
    path("orders/<str:number>/cancel/", views.OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<str:number>/allocate/", views.OrderAllocateView.as_view(), name="order-allocate"),
    path("orders/<str:number>/ship/", views.OrderShipView.as_view(), name="order-ship"),
    path("orders/<str:number>/payment/", views.OrderPaymentView.as_view(), name="order-payment"),
    path("orders/<str:number>/refund/", views.OrderRefundView.as_view(), name="order-refund"),
    path("orders/<str:number>/void/", views.PaymentVoidView.as_view(), name="order-void"),
    path("orders/<str:number>/call/", views.OrderCallView.as_view(), name="order-call"),
    path("orders/<str:number>/edit/", views.OrderEditView.as_view(), name="order-edit"),
]
