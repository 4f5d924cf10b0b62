"""Template context shared by every page."""

from django.conf import settings

from mall.http import safe_next
from orders.selectors import is_order_staff


def _cart_count(request):
    cart = request.session.get("cart", {}) if hasattr(request, "session") else {}
    if not isinstance(cart, dict):
        return 0
    return sum(q for q in cart.values() if isinstance(q, int) and not isinstance(q, bool) and q > 0)


def _sign_in_next(request):
    """Where "Sign in" / "Register" in the header return to: the page being read, except
    on the account pages themselves (sign-in, register, password reset), which pass on
    their own ``next`` (if it is a path on this site) instead of pointing at themselves."""
    path = getattr(request, "path", "")
    if not path:
        return ""
    if path.startswith("/accounts/"):
        return safe_next(request, request.GET.get("next", "")) or ""
    return request.get_full_path()


def shop(request):
    """Expose the shop's name, phone, currency, cart size and the staff flag to templates."""
    user = getattr(request, "user", None)
    return {
        "MALL_NAME": settings.MALL_NAME,
        "MALL_PHONE": settings.MALL_PHONE,
        "MALL_CURRENCY": settings.MALL_CURRENCY,
        "is_order_staff": bool(user and is_order_staff(user)),
        "cart_count": _cart_count(request),
        "sign_in_next": _sign_in_next(request) if not (user and user.is_authenticated) else "",
    }
