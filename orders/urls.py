"""Cart, checkout and the member's own orders (DESIGN: "URLs")."""

from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("cart/", views.CartView.as_view(), name="cart"),
    path("cart/add/", views.CartAddView.as_view(), name="cart-add"),
    path("cart/update/", views.CartUpdateView.as_view(), name="cart-update"),
    path("checkout/", views.CheckoutView.as_view(), name="checkout"),
    path("account/orders/", views.OrderListView.as_view(), name="list"),
    path("account/orders/<str:number>/", views.OrderDetailView.as_view(), name="detail"),
    path("account/orders/<str:number>/edit/", views.OrderEditView.as_view(), name="edit"),
    path("account/orders/<str:number>/cancel/", views.OrderCancelView.as_view(), name="cancel"),
]
