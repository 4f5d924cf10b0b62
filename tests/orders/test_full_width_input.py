"""Full-width digits and codes from Chinese input methods are normalised (NFKC), issue 13.

Each field that takes digits or codes accepts what an IME types, stores the plain form,
and the member and staff see what was stored.
"""

from decimal import Decimal

import pytest
from django import forms
from django.urls import reverse

from mall.formatting import normalize_typed
from mall.models import Product
from orders import services
from orders.forms import CartAddForm
from orders.models import Order
from staff.forms import PaymentForm, ShipForm
from tests.factories import ADDRESS, ProductFactory
from tests.orders.test_checkout_views import CHECKOUT, fill_cart, form_data, open_checkout
from tests.orders.test_member_order_views import edit_data

pytestmark = pytest.mark.django_db

IME_PHONE = "１３８\u3000００１３\u3000８０００"  # full-width digits, ideographic spaces
IME_POSTCODE = "２０００００"


def test_normalize_typed_maps_full_width_to_ascii_and_single_spaces():
    assert normalize_typed(IME_PHONE) == "138 0013 8000"
    assert normalize_typed(" ＳＦ１２３４－５６ ") == "SF1234-56"
    assert normalize_typed("１２．５０") == "12.50"
    assert normalize_typed("茉莉花茶") == "茉莉花茶"  # Chinese text is left as it is
    assert normalize_typed(None) is None


def test_checkout_accepts_a_full_width_phone_and_postcode_and_stores_them_plain(
    client, member, login
):
    product = ProductFactory(price=Decimal("20.00"), stock=5)
    login(member)
    fill_cart(client, (product, 1))
    _response, token = open_checkout(client)

    response = client.post(CHECKOUT, form_data(token, phone=IME_PHONE, postcode=IME_POSTCODE))

    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.phone, order.postcode) == ("138 0013 8000", "200000")
    page = client.get(order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert "138 0013 8000" in page.text and IME_PHONE not in page.text


def test_the_service_normalises_the_address_codes_too(member):
    product = ProductFactory(stock=None)
    order = services.place_order(
        member,
        lines=[(product, 1)],
        address=dict(ADDRESS, phone=IME_PHONE, postcode=IME_POSTCODE),
        payment_method="cod",
    )
    assert (order.phone, order.postcode) == ("138 0013 8000", "200000")


def test_a_full_width_quantity_is_a_number():
    form = CartAddForm({"product": "1", "quantity": "３"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["quantity"] == 3


def test_a_full_width_amount_and_reference_are_read_plain(member):
    order = services.place_order(
        member, lines=[(ProductFactory(stock=None), 1)], address=ADDRESS, payment_method="cod"
    )
    form = PaymentForm(
        {
            "amount": "１２８．５０",
            "method": "bank_transfer",
            "reference": "ＢＡＮＫ－００７",
            "received_on": "2025-01-02",
        },
        order=order,
    )
    form.is_valid()
    assert form.cleaned_data["amount"] == Decimal("128.50")
    assert form.cleaned_data["reference"] == "BANK-007"


def test_a_full_width_waybill_is_stored_plain(admin_user, logistics_user, member):
    order = services.place_order(
        member, lines=[(ProductFactory(stock=None), 1)], address=ADDRESS, payment_method="cod"
    )
    form = ShipForm(
        {"carrier": "SF Express", "tracking_number": "ＳＦ１２３４５６７８９０１２"}, order=order
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["tracking_number"] == "SF123456789012"

    order = services.confirm_order(
        admin_user, order, expected_version=order.version, call_note="ok"
    )
    order = services.allocate_order(admin_user, order, assignee=logistics_user)
    order = services.ship_order(
        admin_user, order, carrier="ＳＦ Express", tracking_number="ＳＦ１２３４ ５６７８　９０１２"
    )
    # Stored as a settlement file's waybill is read: no spaces, the carrier in ASCII.
    stored = Order.objects.get(pk=order.pk)
    assert (stored.carrier, stored.tracking_number) == ("SF Express", "SF123456789012")


def test_a_full_width_order_number_finds_the_order_in_the_staff_search(login, admin_user, member):
    order = services.place_order(
        member, lines=[(ProductFactory(stock=None), 1)], address=ADDRESS, payment_method="cod"
    )
    typed = order.number.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})  # full width
    assert typed != order.number

    response = login(admin_user).get(reverse("staff:order-list"), {"q": typed})

    assert [o.number for o in response.context["orders"]] == [order.number]


def test_a_full_width_sku_finds_the_item_and_a_full_width_quantity_adds_it(login, member):
    tea = ProductFactory(sku="TEA-JASMINE", name="Jasmine tea", price=Decimal("30.00"), stock=6)
    order = services.place_order(
        member, lines=[(ProductFactory(stock=None), 1)], address=ADDRESS, payment_method="cod"
    )
    client = login(member)
    path = reverse("orders:edit", args=[order.number])

    found = client.get(path, {"find": "ｔｅａ－ｊａｓｍｉｎｅ"})
    assert [p.sku for p, _field in found.context["form"].add_fields()] == ["TEA-JASMINE"]

    response = client.post(path, edit_data(order, **{f"add-{tea.pk}": "２"}))

    assert response.status_code == 302
    assert Order.objects.get(pk=order.pk).lines.filter(sku="TEA-JASMINE", quantity=2).exists()
    assert Product.objects.get(pk=tea.pk).stock == 4


def test_the_storefront_search_reads_a_full_width_sku(client):
    ProductFactory(sku="KT-WOK", name="Carbon Steel Wok", stock=None)
    response = client.get("/search/", {"q": "ＫＴ－ＷＯＫ"})
    assert "Carbon Steel Wok" in response.text


def test_a_form_shown_again_shows_full_width_numbers_as_ascii():
    from mall.formatting import TypedDateField, TypedIntegerField

    class Form(forms.Form):
        quantity = TypedIntegerField(widget=forms.NumberInput)
        day = TypedDateField(widget=forms.DateInput(attrs={"type": "date"}))
        other = forms.CharField()

    form = Form({"quantity": "２", "day": "２０２６－１１－３０", "other": ""})
    assert not form.is_valid()  # "other" is missing: the form comes back
    html = str(form["quantity"]) + str(form["day"])
    assert 'value="2"' in html and 'value="2026-11-30"' in html
