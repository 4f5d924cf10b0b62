"""Root URLconf: storefront and accounts, orders, back office, Django admin."""

from django.contrib import admin
from django.urls import include, path

from mall.health import healthz

# A database lost mid-request is a "please try again" page, not a 500 (issue 15).
handler500 = "mall.db_router.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", include("mall.storefront_urls")),
    path("", include("orders.urls")),
    path("staff/", include("staff.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
