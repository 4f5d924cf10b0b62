"""Storefront and account URLs (DESIGN: "URLs")."""

from django.contrib.auth import views as auth_views
from django.urls import path

from mall import accounts, views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("category/<str:slug>/", views.CategoryView.as_view(), name="category"),
    path("product/<str:slug>/", views.ProductView.as_view(), name="product"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/register/", views.RegisterView.as_view(), name="register"),
    path(
        "accounts/password/change/",
        accounts.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/change/done/",
        accounts.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/password/reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        accounts.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        accounts.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("account/", accounts.AccountView.as_view(), name="account"),
    path("account/addresses/new/", accounts.AddressFormView.as_view(), name="address-new"),
    path(
        "account/addresses/<int:address_id>/",
        accounts.AddressFormView.as_view(),
        name="address-edit",
    ),
    path(
        "account/addresses/<int:address_id>/delete/",
        accounts.AddressDeleteView.as_view(),
        name="address-delete",
    ),
    path(
        "account/addresses/<int:address_id>/default/",
        accounts.AddressDefaultView.as_view(),
        name="address-default",
    ),
]
