"""Locust users for the checkout benchmark (started by ``bench/checkout.py``, never alone).

``BENCH_LOCUST_CONFIG`` names a JSON file: ``{"sessions": [session keys of signed-in
members], "products": [ids], "scarce": id, "address": {...}}``. Each simulated member
has its own session and runs the whole checkout a shopper runs, with no think time:

1. POST ``/cart/add/`` for each of two products (one unit each; redirect back);
2. GET ``/checkout/`` (the form with its one-time ``checkout_token``);
3. POST ``/checkout/``: a 302 to the new order's page is a placed order.

Every request is reported under its own name; the whole sequence is also reported as
``FLOW checkout``. ``ScarceBuyer`` buys the one scarce product until it is gone: a
refusal (sold out) is expected there and counted under ``OUTCOME sold out``.
"""

import itertools
import json
import os
import random
import re
import time
from http.cookiejar import Cookie
from urllib.parse import urlsplit

from locust import FastHttpUser, constant, events, task

CONFIG = json.load(open(os.environ["BENCH_LOCUST_CONFIG"]))  # noqa: SIM115
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TOKEN_RE = re.compile(r'name="checkout_token" value="([^"]+)"')
_members = itertools.count()


def _cookie(name, value, host):
    return Cookie(
        0,
        name,
        value,
        None,
        False,
        host,
        False,
        False,
        "/",
        True,
        False,
        None,
        False,
        None,
        None,
        {},
    )


def _record(name, started, exception=None, kind="FLOW"):
    events.request.fire(
        request_type=kind,
        name=name,
        response_time=(time.perf_counter() - started) * 1000,
        response_length=0,
        exception=exception,
        context={},
    )


class Member(FastHttpUser):
    """A signed-in member with a session of their own (no tasks: see the two below)."""

    abstract = True
    wait_time = constant(0)
    products_per_order = 2
    order_url = "/checkout/"  # where the order is POSTed (FloorBuyer: the floor view)

    def on_start(self):
        host = urlsplit(self.host).hostname
        session = CONFIG["sessions"][next(_members) % len(CONFIG["sessions"])]
        self.client.cookiejar.set_cookie(_cookie("sessionid", session, host))
        # The shop speaks Chinese by default; the refusal texts below are read in English.
        self.client.cookiejar.set_cookie(_cookie("django_language", "en", host))
        response = self.client.get("/cart/", name="cart page (start)")
        match = CSRF_RE.search(response.text or "")
        self.csrf = match.group(1) if match else ""

    def add(self, product_id):
        """Put one unit in the cart; ``True`` when the cart took it."""
        with self.client.post(
            "/cart/add/",
            data={
                "csrfmiddlewaretoken": self.csrf,
                "product": product_id,
                "quantity": 1,
                "next": "/cart/",
            },
            name="cart add",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"cart add answered {response.status_code}")
                return False
            response.success()
            return True

    def place(self):
        """Open the checkout page and place the order: ``"placed"``, ``"refused"`` or error."""
        with self.client.get(
            "/checkout/", name="checkout page", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code == 302:  # the cart refused the item, or it ran out since
                response.success()
                return "refused"
            match = TOKEN_RE.search(response.text or "")
            if response.status_code != 200 or not match:
                response.failure(f"checkout page answered {response.status_code} without a token")
                return "error"
            response.success()
            token = match.group(1)
        data = {
            "csrfmiddlewaretoken": self.csrf,
            "checkout_token": token,
            "payment_method": random.choice(("cod", "bank_transfer", "postal_remittance")),
            "note": "",
            **CONFIG["address"],
        }
        with self.client.post(
            self.order_url,
            data=data,
            name="place order",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            location = response.headers.get("Location", "") if response.headers else ""
            if response.status_code == 302 and "/account/orders/" in location:
                response.success()
                return "placed"
            if response.status_code == 302 and location.rstrip("/").endswith("/cart"):
                response.success()  # the cart changed under the member (ran out): back to it
                return "refused"
            text = (response.text or "").lower()
            if response.status_code == 200 and ("stock" in text or "库存" in text):
                response.success()  # refused: not enough stock (expected only when scarce)
                return "refused"
            response.failure(f"place order answered {response.status_code}")
            return "error"


class Buyer(Member):
    """A member checking out two products from the ample-stock set, again and again."""

    def pick(self):
        return random.sample(CONFIG["products"], self.products_per_order)

    @task
    def checkout(self):
        started = time.perf_counter()
        added = [self.add(p) for p in self.pick()]  # every add runs, as in a real cart
        if not all(added):
            _record("checkout", started, exception=RuntimeError("cart add failed"))
            return
        outcome = self.place()
        if outcome == "placed":
            _record("checkout", started)
        else:
            _record("checkout", started, exception=RuntimeError(f"checkout {outcome}"))


class ScarceBuyer(Member):
    """Races the other members for the last units of one product, one unit at a time."""

    @task
    def checkout(self):
        started = time.perf_counter()
        if not self.add(CONFIG["scarce"]):
            _record("error", started, kind="OUTCOME")
            return
        outcome = self.place()
        _record(
            {"placed": "sold", "refused": "sold out"}.get(outcome, "error"), started, kind="OUTCOME"
        )


class FloorBuyer(Buyer):
    """``Buyer``'s flow with the order POST sent to the floor view (``bench/floor.py``):
    the same cart adds and checkout page, then the bare SQL of an order (issue 16)."""

    order_url = "/bench/floor/checkout/"
