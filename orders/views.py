"""Member order views (being built)."""

from django.views.generic import TemplateView


class CartAddView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class CartUpdateView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class CartView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class CheckoutView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class OrderCancelView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class OrderDetailView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class OrderEditView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class OrderListView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built
