"""The HTTP floor of the checkout (issue 16): the same gunicorn and middleware serving a
minimal Django view that does the bare SQL of the order POST.

``floor_order`` reads the session's cart as ``/checkout/`` does, then, in one
transaction and as raw SQL: locks the cart's product rows in key order, updates their
stock, inserts the order, its lines and its "placed" event; it empties the cart and
answers with the redirect to the order, as the order POST does. No form, no checks, no
e-mail, no ORM: what any order POST must cost on this stack. Served only by the
benchmark's own gunicorn (``bench.floor_settings``), never by the shop.
"""

import datetime
import secrets

from django.db import connection, transaction
from django.http import HttpResponseForbidden, HttpResponseRedirect
from django.urls import path

from mall.models import Product
from orders.models import ORDER_NUMBER_ALPHABET, Order, OrderEvent, OrderLine
from orders.pricing import quantize, totals_for
from orders.views import _spend_token


def floor_order(request):
    """POST only, signed in, CSRF-checked by the middleware like the order POST."""
    from bench.checkout import _insert_sql, _rows

    if request.method != "POST" or not request.user.is_authenticated:
        return HttpResponseForbidden()
    cart = request.session.get("cart") or {}
    wanted = {int(k): int(v) for k, v in cart.items()}
    if not wanted:
        return HttpResponseRedirect("/cart/")
    table = connection.ops.quote_name(Product._meta.db_table)
    now = datetime.datetime.now(datetime.UTC)
    raw = "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _i in range(8))
    number = f"{raw[:4]}-{raw[4:]}"
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"SELECT id, sku, name, price FROM {table} "  # noqa: S608
            "WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
            [sorted(wanted)],
        )
        rows = cur.fetchall()
        for pid, *_rest in rows:
            cur.execute(
                f"UPDATE {table} SET stock = stock - %s, updated_at = %s WHERE id = %s",  # noqa: S608
                [wanted[pid], now, pid],
            )
        subtotal, fee, total = totals_for(
            quantize(price * wanted[pid]) for pid, _s, _n, price in rows
        )
        columns, values = _rows(
            Order,
            {
                "number": number,
                "customer_id": request.user.pk,
                "status": "submitted",
                "payment_status": "unpaid",
                "payment_method": request.POST.get("payment_method", "cod"),
                "subtotal": subtotal,
                "shipping_fee": fee,
                "total": total,
                "owed": total,
                "placed_at": now,
                "updated_at": now,
                "checkout_token": request.POST.get("checkout_token") or secrets.token_urlsafe(32),
                **{f: request.POST.get(f, "") for f in ("recipient", "phone", "region", "city")},
                "address_line": request.POST.get("address_line", ""),
                "postcode": request.POST.get("postcode", ""),
            },
        )
        cur.execute(_insert_sql(Order, columns) + " RETURNING id", values)
        order_id = cur.fetchone()[0]
        for pid, sku, name, price in rows:
            columns, values = _rows(
                OrderLine,
                {
                    "order_id": order_id,
                    "product_id": pid,
                    "sku": sku,
                    "name": name,
                    "unit_price": price,
                    "quantity": wanted[pid],
                    "reserved_quantity": wanted[pid],
                    "line_total": quantize(price * wanted[pid]),
                },
            )
            cur.execute(_insert_sql(OrderLine, columns), values)
        columns, values = _rows(
            OrderEvent,
            {
                "order_id": order_id,
                "actor_id": request.user.pk,
                "kind": "placed",
                "from_status": "",
                "to_status": "submitted",
                "from_payment_status": "",
                "to_payment_status": "unpaid",
                "data": {"total": str(total)},
                "order_version": 1,
                "created_at": now,
            },
        )
        cur.execute(_insert_sql(OrderEvent, columns), values)
    request.session["cart"] = {}
    _spend_token(request.session, request.POST.get("checkout_token", ""))  # as /checkout/ does
    return HttpResponseRedirect(f"/account/orders/{number}/")


urlpatterns = [path("bench/floor/checkout/", floor_order)]
