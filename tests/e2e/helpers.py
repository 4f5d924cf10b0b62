"""Helpers of the browser tests: actors driving a page, the accessibility audit, set-up.

An ``Actor`` is one person in their own browser context (own cookies). Every page the
actor lands on is audited (``audit``): labelled form controls, ``lang``, a title, named
buttons. The actor remembers each URL its tab navigated to, and the e2e conftest fails
the test if one of them was never audited.
"""

import re
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from mall.models import Product
from tests import factories

# Runs in the page; returns a list of offenders (strings), empty when the page is fine.
A11Y_SCRIPT = r"""
() => {
  const problems = [];
  const text = (el) => (el ? (el.textContent || "").replace(/\s+/g, " ").trim() : "");
  const describe = (el) => {
    const attrs = ["id", "name", "type"]
      .filter((a) => el.getAttribute(a))
      .map((a) => `${a}="${el.getAttribute(a)}"`)
      .join(" ");
    return `<${el.tagName.toLowerCase()}${attrs ? " " + attrs : ""}>`;
  };
  const labelledBy = (el) =>
    (el.getAttribute("aria-labelledby") || "")
      .split(/\s+/)
      .filter(Boolean)
      .map((id) => text(document.getElementById(id)))
      .join(" ")
      .trim();

  const lang = (document.documentElement.getAttribute("lang") || "").trim();
  if (!lang) problems.push("<html> has no lang attribute");
  if (!document.title.trim()) problems.push("the page has no title");

  const skipTypes = ["hidden", "submit", "button", "reset", "image"];
  for (const el of document.querySelectorAll("input, select, textarea")) {
    const type = (el.getAttribute("type") || "").toLowerCase();
    if (el.tagName === "INPUT" && skipTypes.includes(type)) continue;
    const byFor = el.id
      ? Array.from(document.querySelectorAll(`label[for="${CSS.escape(el.id)}"]`)).some(
          (label) => text(label)
        )
      : false;
    const wrapping = el.closest("label");
    const named =
      byFor ||
      (wrapping && text(wrapping)) ||
      (el.getAttribute("aria-label") || "").trim() ||
      labelledBy(el);
    if (!named) problems.push(`form control without a label: ${describe(el)}`);
  }

  // <input type="submit|reset"> without a value still reads "Submit"/"Reset": named.
  const buttons = document.querySelectorAll(
    'button, input[type="button"], input[type="image"], [role="button"]'
  );
  for (const el of buttons) {
    const own =
      el.tagName === "INPUT"
        ? (el.getAttribute("value") || el.getAttribute("alt") || "").trim()
        : text(el);
    const name =
      own ||
      (el.getAttribute("aria-label") || "").trim() ||
      labelledBy(el) ||
      (el.getAttribute("title") || "").trim();
    if (!name) problems.push(`button without an accessible name: ${describe(el)}`);
  }
  return problems;
}
"""


class Actor:
    """One person (member or staff) in their own browser context.

    ``goto`` and ``click`` wait for the new page and audit it; use them for every
    navigation so no page escapes the audit.
    """

    def __init__(self, name, page):
        self.name = name
        self.page = page
        self.visited = []
        self.audited = set()
        page.on("framenavigated", self._navigated)

    def _navigated(self, frame):
        if frame == self.page.main_frame and not frame.url.startswith("about:"):
            self.visited.append(frame.url)

    def __repr__(self):
        return f"<Actor {self.name}>"

    # navigation ---------------------------------------------------------------------

    def goto(self, path, *, status=200):
        """Open ``path`` (relative to the live server), check the HTTP status, audit."""
        response = self.page.goto(path)
        assert response is not None, path
        assert response.status == status, f"{self.name}: GET {path} gave {response.status}"
        self.audit()
        return response

    def click(self, locator):
        """Click something that loads a new page (link or submit button); audit it."""
        with self.page.expect_navigation():
            locator.click()
        self.audit()

    def audit(self):
        """Assert the accessibility basics on the current page (see ``A11Y_SCRIPT``)."""
        self.page.wait_for_load_state()
        offenders = self.page.evaluate(A11Y_SCRIPT)
        assert offenders == [], f"{self.name} on {self.page.url}: {offenders}"
        self.audited.add(self.page.url)

    def unaudited(self):
        """URLs this actor's tab navigated to that were never audited."""
        return [url for url in self.visited if url not in self.audited]

    # common steps -------------------------------------------------------------------

    def sign_in(self, username, password):
        """Sign in through the login form."""
        self.goto("/accounts/login/")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.click(self.page.locator("main").get_by_role("button", name="Sign in"))
        sign_out = self.page.get_by_role("button", name=re.compile(r"^Sign out"))
        assert sign_out.is_visible(), f"{username} could not sign in: {self.message_texts()}"

    def message_texts(self):
        """The flash messages on the page, as a list of strings."""
        return [text.strip() for text in self.page.locator("ul.messages li").all_inner_texts()]

    def csrf_token(self):
        """The CSRF token from a form of the current page."""
        return self.page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")


# --- set-up ----------------------------------------------------------------------------------

SAMPLE_CSV = Path(settings.BASE_DIR).parent / "shared" / "data" / "woocommerce_sample_products.csv"
DEMO_CSV = Path(settings.BASE_DIR) / "mall" / "demo" / "demo_catalogue.csv"

# SKUs the journey buys from each catalogue: a simple product, a variable product and one
# of its variations (picked on the variable product's page).
PICKS = {
    SAMPLE_CSV.name: {"simple": "cc-beanie", "variable": "cc-hoodie", "variation": "cc-hoodie-red"},
    DEMO_CSV.name: {"simple": "KT-WOK", "variable": "CL-TEE", "variation": "CL-TEE-M-WHT"},
}
SIMPLE_STOCK = 20
VARIATION_STOCK = 10


class Catalogue:
    """What the set-up imported and which products the journey buys (read from the DB)."""

    def __init__(self, source, simple, variable, variation):
        self.source = source
        self.simple = simple
        self.variable = variable
        self.variation = variation
        # The variation's text in the "Choose an option" select, e.g. "Color: Red, Logo: No".
        self.option = ", ".join(f"{name}: {value}" for name, value in variation.attribute_items)


def import_catalogue():
    """Import the WooCommerce sample (CI always has it) or, on a bare clone, the demo file.

    The bought products get a tracked stock (``SIMPLE_STOCK``, ``VARIATION_STOCK``) so the
    tests can assert the stock figures.
    """
    source = SAMPLE_CSV if SAMPLE_CSV.is_file() else DEMO_CSV
    call_command("import_products", str(source), verbosity=0)
    picks = PICKS[source.name]
    Product.objects.filter(sku=picks["simple"]).update(stock=SIMPLE_STOCK)
    Product.objects.filter(sku=picks["variation"]).update(stock=VARIATION_STOCK)
    return Catalogue(
        source,
        simple=Product.objects.get(sku=picks["simple"]),
        variable=Product.objects.get(sku=picks["variable"]),
        variation=Product.objects.get(sku=picks["variation"]),
    )


def staff_users():
    """One user per staff role (known password ``factories.PASSWORD``), keyed by role."""
    return {
        "admin": factories.order_admin(
            username="olivia", first_name="Olivia", last_name="Admin", email="olivia@shop.example"
        ),
        "finance": factories.finance_clerk(
            username="fiona", first_name="Fiona", last_name="Finance", email="fiona@shop.example"
        ),
        "logistics": factories.logistics_person(
            username="leo", first_name="Leo", last_name="Courier", email="leo@shop.example"
        ),
    }


def money(amount):
    """``amount`` as the pages show it in English: ``¥1,234.50`` (independently of
    ``mall.formatting``, so a change of format there shows up here)."""
    assert settings.MALL_CURRENCY == "CNY"
    amount = Decimal(amount)
    return f"{'-' if amount < 0 else ''}¥{abs(amount):,.2f}"
