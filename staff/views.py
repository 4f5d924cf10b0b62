"""Back-office views (being built)."""

from django.views.generic import TemplateView


class DashboardView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class DeliveryListView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class OrderAllocateView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class OrderCallView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class OrderCancelView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class OrderConfirmView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class OrderDetailView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class OrderExportView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class OrderInvalidateView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class OrderListView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class OrderPaymentView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class OrderPrintView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class OrderRefundView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class OrderShipView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class PaymentVoidView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built
