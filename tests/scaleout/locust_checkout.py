"""Locust members for the scale-out test's checkout load (started by the test only).

``SCALEOUT_CONFIG`` names a JSON file: ``{"webs": [base URLs], "members": [usernames],
"password": ..., "product": id, "results": path}``. Each member signs in, then runs the
checkout again and again (cart add, checkout page, order POST) against one of the web
processes in turn. Every response is classed and written to ``results`` (one JSON line):
``ok`` (what the page should answer), ``try_again`` (503 with the "please try again"
page) or ``bad`` (anything else: a 500, an error page, a dropped connection).
"""

import itertools
import json
import os
import re

from locust import HttpUser, constant, task

CONFIG = json.load(open(os.environ["SCALEOUT_CONFIG"]))  # noqa: SIM115
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TOKEN_RE = re.compile(r'name="checkout_token" value="([^"]+)"')
TRY_AGAIN = "Please try again"
_numbers = itertools.count()


def _write(name, response, outcome, detail=""):
    line = {
        "name": name,
        "status": getattr(response, "status_code", None),
        "outcome": outcome,
        "detail": detail,
        "location": (response.headers.get("Location", "") if response is not None else ""),
    }
    with open(CONFIG["results"], "a") as out:
        out.write(json.dumps(line) + "\n")


class CheckoutMember(HttpUser):
    wait_time = constant(0.05)

    def on_start(self):
        number = next(_numbers)
        self.username = CONFIG["members"][number % len(CONFIG["members"])]
        self.webs = CONFIG["webs"]
        self.turn = number
        self.client.cookies.set("django_language", "en")
        self.signed_in = False

    def web(self):
        self.turn += 1
        return self.webs[self.turn % len(self.webs)]

    def classify(self, name, response, expected):
        text = response.text or ""
        if response.status_code in expected:
            _write(name, response, "ok")
            return True
        if response.status_code == 503 and TRY_AGAIN in text:
            _write(name, response, "try_again")
            return False
        _write(name, response, "bad", text[:300])
        return False

    def request(self, method, name, url, **kwargs):
        try:
            return self.client.request(method, url, name=name, allow_redirects=False, **kwargs)
        except Exception as exc:  # the web process itself did not answer
            _write(name, None, "bad", repr(exc))
            return None

    def sign_in(self):
        base = self.web()
        page = self.request("GET", "login page", f"{base}/accounts/login/")
        if page is None or not self.classify("login page", page, {200}):
            return
        csrf = CSRF_RE.search(page.text).group(1)
        response = self.request(
            "POST",
            "login",
            f"{base}/accounts/login/",
            data={
                "csrfmiddlewaretoken": csrf,
                "username": self.username,
                "password": CONFIG["password"],
            },
        )
        if response is not None and self.classify("login", response, {302}):
            self.signed_in = True

    @task
    def checkout(self):
        if not self.signed_in:
            self.sign_in()
            return
        base = self.web()
        csrf = self.client.cookies.get("csrftoken", "")
        added = self.request(
            "POST",
            "cart add",
            f"{base}/cart/add/",
            data={"csrfmiddlewaretoken": csrf, "product": CONFIG["product"], "quantity": 1},
        )
        if added is None or not self.classify("cart add", added, {302}):
            return
        base = self.web()
        page = self.request("GET", "checkout page", f"{base}/checkout/")
        if page is None or not self.classify("checkout page", page, {200, 302}):
            return
        match = TOKEN_RE.search(page.text or "")
        if page.status_code != 200 or not match:
            return
        csrf = self.client.cookies.get("csrftoken", "")
        base = self.web()
        placed = self.request(
            "POST",
            "place order",
            f"{base}/checkout/",
            data={
                "csrfmiddlewaretoken": csrf,
                "checkout_token": match.group(1),
                "payment_method": "cod",
                "note": "",
                "recipient": "Zhou Min",
                "phone": "139 0000 1234",
                "region": "Zhejiang",
                "city": "Hangzhou",
                "address_line": "18 Binjiang Road, Building 2, Room 801",
                "postcode": "310000",
            },
        )
        if placed is not None and self.classify("place order", placed, {302}):
            location = placed.headers.get("Location", "")
            if "/account/orders/" not in location:
                _write("place order", placed, "bad", f"redirected to {location}")
