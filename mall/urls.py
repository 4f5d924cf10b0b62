"""Root URLconf: storefront and accounts, orders, back office, Django admin."""

from django.contrib import admin
from django.urls import include, path

from mall.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", include("mall.storefront_urls")),
    path("", include("orders.urls")),
    path("staff/", include("staff.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
