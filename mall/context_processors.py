"""Template context shared by every page."""

from django.conf import settings

from orders.selectors import is_order_staff


def _cart_count(request):
    cart = request.session.get("cart", {}) if hasattr(request, "session") else {}
    if not isinstance(cart, dict):
        return 0
    return sum(q for q in cart.values() if isinstance(q, int) and not isinstance(q, bool) and q > 0)


def shop(request):
    """Expose the shop's name, phone, currency, cart size and the staff flag to templates."""
    user = getattr(request, "user", None)
    return {
        "MALL_NAME": settings.MALL_NAME,
        "MALL_PHONE": settings.MALL_PHONE,
        "MALL_CURRENCY": settings.MALL_CURRENCY,
        "is_order_staff": bool(user and is_order_staff(user)),
        "cart_count": _cart_count(request),
    }
