"""Storefront and account URLs (DESIGN: "URLs")."""

from django.contrib.auth import views as auth_views
from django.urls import path

from mall import views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("category/<str:slug>/", views.CategoryView.as_view(), name="category"),
    path("product/<str:slug>/", views.ProductView.as_view(), name="product"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/register/", views.RegisterView.as_view(), name="register"),
]
