"""A variation's "any value" attribute is the customer's choice (issue 13).

WooCommerce's sample T-shirt variations fix the colour and leave the size blank ("any
size"). The product page asks for the size, and the choice reaches the cart line, the
order line, the print sheet and the spreadsheet export.
"""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from mall.models import Product
from orders import services
from orders.cart import Cart
from orders.exceptions import InvalidInput
from orders.models import Order
from tests.factories import ADDRESS, ProductFactory
from tests.orders.test_checkout_views import CHECKOUT, form_data, open_checkout

pytestmark = pytest.mark.django_db

FILE = Path(__file__).parent.parent / "mall" / "files" / "wc_any_value.csv"


@pytest.fixture
def red_tee():
    call_command("import_products", str(FILE), stdout=io.StringIO())
    return Product.objects.get(sku="cc-tee-red")


def add(client, product, **choices):
    data = {"product": product.pk, "quantity": 2}
    data.update({f"choice-{name}": value for name, value in choices.items()})
    return client.post(reverse("orders:cart-add"), data, HTTP_ACCEPT_LANGUAGE="en", follow=True)


def test_the_product_page_asks_for_the_open_attribute(client, red_tee):
    page = client.get(red_tee.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")

    assert page.status_code == 200
    assert 'name="choice-Size" required' in page.text
    for size in ("Large", "Medium", "Small"):
        assert f'<option value="{size}">{size}</option>' in page.text
    assert "Color: Red, Size: your choice" in page.text


def test_the_choice_goes_from_the_cart_to_the_order_print_sheet_and_export(
    client, login, member, admin_user, red_tee
):
    login(member)
    response = add(client, red_tee, Size="Medium")
    assert "Added 2 × T-Shirt – Red (Size: Medium) to your cart." in response.text
    cart = client.get(reverse("orders:cart"), HTTP_ACCEPT_LANGUAGE="en")
    assert "T-Shirt – Red (Size: Medium)" in cart.text

    _page, token = open_checkout(client)
    assert client.post(CHECKOUT, form_data(token)).status_code == 302

    line = Order.objects.get().lines.get()
    assert line.chosen_attributes == {"Size": "Medium"}
    assert (line.name, line.quantity, line.unit_price) == (
        "T-Shirt – Red (Size: Medium)",
        2,
        Decimal("18.00"),
    )
    staff = login(admin_user)
    sheet = staff.get(reverse("staff:order-print", args=[line.order.number]))
    assert "T-Shirt – Red (Size: Medium)" in sheet.text
    export = staff.get(reverse("staff:order-export"), {"format": "xlsx"})
    book = load_workbook(io.BytesIO(b"".join(export.streaming_content)))
    rows = [[cell.value for cell in row] for row in book["Lines"].iter_rows(2)]
    assert rows == [[line.order.number, "cc-tee-red", line.name, "Size: Medium", 2, 18, 36]]


def test_no_choice_or_a_value_not_on_offer_is_refused(client, red_tee):
    response = add(client, red_tee)
    assert "Choose the Size of T-Shirt – Red." in response.text
    response = add(client, red_tee, Size="XXL")
    assert "XXL is not a Size of T-Shirt – Red." in response.text
    assert len(Cart(client.session)) == 0


def test_a_second_different_choice_of_the_same_line_is_refused(client, red_tee):
    add(client, red_tee, Size="Small")
    response = add(client, red_tee, Size="Large")
    assert "is already in your cart as T-Shirt – Red (Size: Small)" in response.text
    assert len(Cart(client.session)) == 2


def test_the_service_requires_the_choice_too(member, red_tee):
    with pytest.raises(InvalidInput, match="Choose the Size"):
        services.place_order(member, lines=[(red_tee, 1)], address=ADDRESS, payment_method="cod")
    order = services.place_order(
        member, lines=[(red_tee, 1, {"Size": "Large"})], address=ADDRESS, payment_method="cod"
    )
    assert order.lines.get().chosen_attributes == {"Size": "Large"}
    assert order.events.get().data["lines"][0]["chosen"] == {"Size": "Large"}


def test_an_order_taken_by_phone_records_the_members_choice(client, red_tee, admin_user, member):
    client.force_login(admin_user)
    client.cookies.load({"django_language": "en"})
    page = client.get("/staff/orders/new/", {"member": member.pk, "find": "cc-tee-red"})
    html = page.content.decode()
    assert f'name="choice-{red_tee.pk}-0"' in html and '<option value="Medium">' in html
    body = {
        **ADDRESS,
        "step": "order",
        "member": member.pk,
        "token": "phone-order-choice",
        "payment_method": "cod",
        "note": "",
        f"add-{red_tee.pk}": "2",
    }
    # No size chosen: the form says which, and nothing is placed.
    refused = client.post("/staff/orders/new/", body)
    assert refused.status_code == 200
    assert refused.context["form"].errors[f"choice-{red_tee.pk}-0"] == [
        "Choose the Size of T-Shirt – Red."
    ]
    assert not Order.objects.exists()
    client.post("/staff/orders/new/", {**body, f"choice-{red_tee.pk}-0": "Medium"})
    line = Order.objects.get(customer=member).lines.get()
    assert (line.quantity, line.chosen_attributes) == (2, {"Size": "Medium"})
    assert line.name == "T-Shirt – Red (Size: Medium)"


def test_an_admin_adding_the_variation_during_a_call_records_the_choice(
    client, red_tee, admin_user, member
):
    mug = ProductFactory(sku="MUG-9", name="Mug", price=Decimal("20.00"), stock=5)
    order = services.place_order(member, lines=[(mug, 1)], address=ADDRESS, payment_method="cod")
    client.force_login(admin_user)
    client.cookies.load({"django_language": "en"})
    body = {
        **ADDRESS,
        "payment_method": "cod",
        "note": "",
        "version": order.version,
        "reason": "As the member asked on the phone.",
        f"qty-{mug.pk}": "1",
        f"add-{red_tee.pk}": "1",
        f"choice-{red_tee.pk}-0": "Small",
    }
    client.post(reverse("staff:order-edit", args=[order.number]), body)
    added = Order.objects.get(pk=order.pk).lines.get(product=red_tee)
    assert added.chosen_attributes == {"Size": "Small"}
