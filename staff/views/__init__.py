"""Back-office views (DESIGN: "URLs"): dashboard, order list and CSV export, order detail,
one POST view per action, deliveries and the printable order sheet.

Views are thin: a form validates the input, the view calls one function of
``orders.services`` and redirects. What a user may do is asked of
``services.allowed_actions`` / ``services.may_ever`` (and the services' own ``check_*``
functions for the reason something is refused), never decided here. A refusal because
of the order's state or the input becomes a message; a role that may never take an
action gets 403; an order outside the user's scope is 404.

One module per business step; this package re-exports every view and helper, so
``from staff import views; views.OrderListView`` keeps working:

- ``_base``: ``StaffRequiredMixin``, ``order_for_staff``, ``detail_url``,
  ``role_labels``, ``staff_orders`` and the list's query strings;
- ``dashboard``: the queues (``DashboardView``);
- ``order_list``: the list and its paginator (``OrderListView``, ``OrderPaginator``,
  ``PAGE_SIZE``, read from this package);
- ``export``: the CSV of the filtered list (``OrderExportView``);
- ``order_detail``: the order page (``OrderDetailView``, ``detail_context``);
- ``actions._base``: ``OrderActionView``, the POST endpoint every action shares;
- ``actions.confirmation``: confirm, invalidate, log a call;
- ``actions.cancellation``: cancel;
- ``actions.dispatch``: allocate, ship;
- ``actions.payments``: payment, refund, void;
- ``actions.delivery``: a delivery attempt, the delivery, a return;
- ``deliveries``: a logistics person's deliveries (``DeliveryListView``);
- ``cash``: couriers' cash in hand and remittances (``CashView``, ``RemittanceView``);
- ``settlements``: a carrier's COD settlement file (``SettlementUploadView``,
  ``SettlementPreviewView``; a long file's ``SettlementJobView``).
- ``deliveries``: the courier's day (``DeliveryListView``, ``RunSheetView``,
  ``PickingListView``);
- ``bulk``: the order list's bulk actions (``BulkAllocateView``);
- ``selection``: several orders named by ``?order=`` (at most ``MAX_ORDERS``);
- ``printing``: the printable order sheet (``OrderPrintView``), several at once
  (``OrderSheetsPrintView``);
- ``reports``: the reports by business day, charts and downloads (``ReportsView``);
- ``desk``: change an order for the member, take an order by phone (issue 11);
- ``outbox``: member e-mails that failed, with a retry button (issue 15).
"""

from staff.views._base import (
    STALE_SESSION_KEY,
    StaffRequiredMixin,
    detail_url,
    order_for_staff,
    role_labels,
    staff_orders,
)
from staff.views.actions._base import OrderActionView
from staff.views.actions.cancellation import OrderCancelView
from staff.views.actions.confirmation import (
    OrderCallingView,
    OrderCallView,
    OrderConfirmView,
    OrderInvalidateView,
)
from staff.views.actions.delivery import OrderAttemptView, OrderDeliverView, OrderReturnView
from staff.views.actions.dispatch import OrderAllocateView, OrderShipView
from staff.views.actions.payments import OrderPaymentView, OrderRefundView, PaymentVoidView
from staff.views.bulk import BulkAllocateView
from staff.views.cash import CashView, RemittanceView
from staff.views.dashboard import DashboardView
from staff.views.deliveries import DeliveryListView, PickingListView, RunSheetView
from staff.views.desk import OrderEditView, PhoneOrderView
from staff.views.export import FORMULA_START, OrderExportView
from staff.views.export_jobs import ExportDownloadView, ExportJobView
from staff.views.order_detail import (
    BOX_ACTIONS,
    EXPLAINED_REFUSALS,
    OrderDetailView,
    detail_context,
)
from staff.views.order_list import PAGE_SIZE, OrderListView, OrderPaginator
from staff.views.outbox import OutboxRetryView, OutboxView
from staff.views.printing import OrderPrintView, OrderSheetsPrintView
from staff.views.reports import ReportsView
from staff.views.settlements import (
    SettlementJobView,
    SettlementPreviewView,
    SettlementUploadView,
)

__all__ = [
    "BOX_ACTIONS",
    "EXPLAINED_REFUSALS",
    "FORMULA_START",
    "PAGE_SIZE",
    "STALE_SESSION_KEY",
    "CashView",
    "BulkAllocateView",
    "DashboardView",
    "DeliveryListView",
    "OrderActionView",
    "OrderAllocateView",
    "OrderAttemptView",
    "OrderCallingView",
    "OrderCallView",
    "OrderCancelView",
    "OrderConfirmView",
    "OrderDeliverView",
    "OrderEditView",
    "OrderDetailView",
    "OrderExportView",
    "OrderInvalidateView",
    "OrderListView",
    "OrderPaginator",
    "OrderPaymentView",
    "OrderPrintView",
    "OrderRefundView",
    "OrderReturnView",
    "OrderSheetsPrintView",
    "OutboxRetryView",
    "ExportDownloadView",
    "ExportJobView",
    "OutboxView",
    "OrderShipView",
    "PaymentVoidView",
    "RemittanceView",
    "SettlementJobView",
    "SettlementPreviewView",
    "SettlementUploadView",
    "PickingListView",
    "RunSheetView",
    "ReportsView",
    "PhoneOrderView",
    "StaffRequiredMixin",
    "detail_context",
    "detail_url",
    "order_for_staff",
    "role_labels",
    "staff_orders",
]
