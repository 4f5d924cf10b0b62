"""Back-office URLs (DESIGN: "URLs"): one POST endpoint per action."""

from django.urls import path

from staff import views

app_name = "staff"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("orders/", views.OrderListView.as_view(), name="order-list"),
    path("orders/export/", views.OrderExportView.as_view(), name="order-export"),
    path("deliveries/", views.DeliveryListView.as_view(), name="deliveries"),
    path("cash/", views.CashView.as_view(), name="cash"),
    path("cash/remit/<int:courier_id>/", views.RemittanceView.as_view(), name="cash-remit"),
    path("cod-settlements/", views.SettlementUploadView.as_view(), name="cod-settlements"),
    path(
        "cod-settlements/jobs/<int:job_id>/",
        views.SettlementJobView.as_view(),
        name="cod-settlement-job",
    ),
    path(
        "cod-settlements/<str:token>/",
        views.SettlementPreviewView.as_view(),
        name="cod-settlement-preview",
    ),
    path("deliveries/run-sheet/", views.RunSheetView.as_view(), name="run-sheet"),
    path("deliveries/picking-list/", views.PickingListView.as_view(), name="picking-list"),
    # Before "orders/<str:number>/": these words are never order numbers.
    path("orders/bulk/allocate/", views.BulkAllocateView.as_view(), name="order-bulk-allocate"),
    path("orders/print/", views.OrderSheetsPrintView.as_view(), name="order-print-many"),
    path("reports/", views.ReportsView.as_view(), name="reports"),
    path("exports/<int:job_id>/", views.ExportJobView.as_view(), name="export-job"),
    path(
        "exports/<int:job_id>/download/",
        views.ExportDownloadView.as_view(),
        name="export-download",
    ),
    path("outbox/", views.OutboxView.as_view(), name="outbox"),
    path("outbox/<int:pk>/retry/", views.OutboxRetryView.as_view(), name="outbox-retry"),
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
    path("orders/<str:number>/calling/", views.OrderCallingView.as_view(), name="order-calling"),
    path("orders/<str:number>/attempt/", views.OrderAttemptView.as_view(), name="order-attempt"),
    path("orders/<str:number>/deliver/", views.OrderDeliverView.as_view(), name="order-deliver"),
    path("orders/<str:number>/return/", views.OrderReturnView.as_view(), name="order-return"),
    path("orders/<str:number>/edit/", views.OrderEditView.as_view(), name="order-edit"),
]
