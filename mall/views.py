"""Storefront views (being built)."""

from django.views.generic import TemplateView


class CategoryView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class HomeView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class LoginView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class LogoutView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class ProductView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class RegisterView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built


class SearchView(TemplateView):
    template_name = "base.html"  # placeholder until this view is built
