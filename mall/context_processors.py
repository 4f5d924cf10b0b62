"""Template context shared by every page."""

from django.conf import settings


def shop(request):
    """Expose the shop's name, currency and cart size to templates."""
    cart = request.session.get("cart", {}) if hasattr(request, "session") else {}
    from orders.selectors import is_order_staff

    user = getattr(request, "user", None)
    return {
        "MALL_NAME": settings.MALL_NAME,
        "MALL_PHONE": settings.MALL_PHONE,
        "is_order_staff": bool(user and is_order_staff(user)),
        "MALL_CURRENCY": settings.MALL_CURRENCY,
        "cart_count": sum(cart.values()) if isinstance(cart, dict) else 0,
    }
