"""'My orders': list, detail, edit and cancel through the test client.

Another member's order is a 404 on every page; refusals change nothing (status, version,
stock, lines, events).
"""

from decimal import Decimal

import pytest
from django.urls import reverse

from mall.models import Product
from orders import services
from orders.models import Order, OrderEvent, PaymentMethod, PaymentStatus, Status
from tests.factories import ADDRESS, OrderFactory, ProductFactory

pytestmark = pytest.mark.django_db


def snapshot(order):
    order = Order.objects.get(pk=order.pk)
    return {
        "status": order.status,
        "version": order.version,
        "total": order.total,
        "address": order.address_dict,
        "lines": sorted(order.lines.values_list("product_id", "quantity")),
        "events": order.events.count(),
        "stock": sorted(
            (line.product_id, line.product.stock) for line in order.lines.select_related("product")
        ),
    }


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def edit_data(order, **overrides):
    order = Order.objects.get(pk=order.pk)
    data = {
        **order.address_dict,
        "payment_method": order.payment_method,
        "note": order.customer_note,
        "version": order.version,
    }
    for line in order.lines.all():
        data[f"qty-{line.product_id}"] = line.quantity
    data.update(overrides)
    return data


@pytest.fixture
def mug(db):
    return ProductFactory(sku="MUG-1", name="Mug", price=Decimal("50.00"), stock=10)


@pytest.fixture
def cap(db):
    return ProductFactory(sku="CAP-1", name="Cap", price=Decimal("19.90"), stock=5)


@pytest.fixture
def order(member, mug, cap):
    """A submitted order of 2 mugs and 1 cap: 119.90 + 10.00 shipping; stock 8 and 4."""
    return OrderFactory(customer=member, lines=[(mug, 2), (cap, 1)])


# --- list and detail ------------------------------------------------------------------


def test_my_orders_lists_only_mine_with_status_in_words(login, member, other_member, order):
    theirs = OrderFactory(customer=other_member)
    confirmed = OrderFactory(customer=member, confirmed=True)
    response = login(member).get(reverse("orders:list"))
    assert response.status_code == 200
    assert [o.number for o in response.context["orders"]] == [confirmed.number, order.number]
    html = response.content.decode()
    assert theirs.number not in html
    assert "Awaiting confirmation" in html and "Confirmed" in html
    assert "¥129.90" in html
    assert response.context["orders"][1].item_count == 3


def test_my_orders_is_paginated(login, member):
    for _ in range(21):
        OrderFactory(customer=member, lines=[(ProductFactory(stock=None), 1)])
    client = login(member)
    first = client.get(reverse("orders:list"))
    assert len(first.context["orders"]) == 20
    second = client.get(reverse("orders:list") + "?page=2")
    assert len(second.context["orders"]) == 1


def test_my_orders_query_count_is_pinned(login, member, django_assert_num_queries):
    for _ in range(5):
        OrderFactory(customer=member)
    client = login(member)
    # session, user, staff roles (header), count for the paginator, the page with item counts
    with django_assert_num_queries(5):
        response = client.get(reverse("orders:list"))
    assert len(response.context["orders"]) == 5


def test_my_orders_needs_sign_in(client):
    response = client.get(reverse("orders:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_detail_shows_lines_money_address_status_and_timeline(login, member, order, mug):
    response = login(member).get(order.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Mug" in html and "MUG-1" in html
    assert "¥119.90" in html and "¥10.00" in html and "¥129.90" in html
    assert ADDRESS["address_line"] in html and ADDRESS["phone"] in html
    assert "Awaiting confirmation" in html
    assert "will call you on 138 0013 8000" in html
    assert [e["event"].kind for e in response.context["timeline"]] == [OrderEvent.Kind.PLACED]
    assert response.context["can_edit"] is True and response.context["can_cancel"] is True
    assert reverse("orders:edit", args=[order.number]) in html
    assert reverse("orders:cancel", args=[order.number]) in html


def test_detail_of_an_unpaid_prepaid_order_shows_the_bank_details(login, member, settings):
    settings.MALL_BANK_DETAILS = "Bank of Example · account 6222 0000 1234 5678"
    order = OrderFactory(customer=member, payment_method=PaymentMethod.BANK_TRANSFER)
    html = login(member).get(order.get_absolute_url()).content.decode()
    assert settings.MALL_BANK_DETAILS in html
    assert "Please wait for our confirmation call, then pay ¥110.00" in html


def test_detail_of_a_shipped_order_shows_carrier_waybill_and_no_actions(login, member):
    order = OrderFactory(customer=member, shipped=True)
    response = login(member).get(order.get_absolute_url())
    html = response.content.decode()
    assert "Own fleet" in html and f"WB-{order.number}" in html
    assert response.context["can_edit"] is False and response.context["can_cancel"] is False
    assert reverse("orders:edit", args=[order.number]) not in html
    assert [e["event"].kind for e in response.context["timeline"]] == [
        OrderEvent.Kind.PLACED,
        OrderEvent.Kind.CONFIRMED,
        OrderEvent.Kind.SHIPPED,
    ]


def test_detail_of_a_confirmed_order_explains_why_it_cannot_change(login, member):
    order = OrderFactory(customer=member, confirmed=True)
    response = login(member).get(order.get_absolute_url())
    html = response.content.decode()
    assert "can no longer be changed or cancelled online" in html
    assert reverse("orders:edit", args=[order.number]) not in html
    assert reverse("orders:cancel", args=[order.number]) not in html


def test_detail_hides_staff_only_notes(login, member, order, admin_user):
    from orders import services

    services.confirm_order(admin_user, order, expected_version=1, call_note="Sounded unsure")
    html = login(member).get(order.get_absolute_url()).content.decode()
    assert "Sounded unsure" not in html


@pytest.mark.parametrize("name", ["detail", "edit", "cancel"])
def test_another_members_order_is_404(login, other_member, order, name):
    before = snapshot(order)
    client = login(other_member)
    url = reverse(f"orders:{name}", args=[order.number])
    assert client.get(url).status_code == 404
    if name != "detail":
        assert client.post(url, edit_data(order, city="Elsewhere")).status_code == 404
    assert snapshot(order) == before


@pytest.mark.parametrize("name", ["detail", "edit", "cancel"])
def test_anonymous_is_sent_to_login(client, order, name):
    before = snapshot(order)
    url = reverse(f"orders:{name}", args=[order.number])
    response = client.post(url, {})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"
    assert snapshot(order) == before


def test_unknown_number_is_404(login, member):
    assert login(member).get(reverse("orders:detail", args=["NOPE-NOPE"])).status_code == 404


# --- edit -------------------------------------------------------------------------------


def test_edit_form_shows_the_order_as_it_is(login, member, order, mug):
    response = login(member).get(reverse("orders:edit", args=[order.number]))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["version"] == 1
    assert form.initial["city"] == ADDRESS["city"]
    assert form[f"qty-{mug.pk}"].initial == 2
    html = response.content.decode()
    assert f'for="id_qty-{mug.pk}"' in html
    assert 'name="version"' in html


def test_edit_changes_quantities_and_address(login, member, order, mug, cap):
    client = login(member)
    response = client.post(
        reverse("orders:edit", args=[order.number]),
        edit_data(order, **{f"qty-{mug.pk}": "3", f"qty-{cap.pk}": "0", "city": "Suzhou"}),
    )
    assert response.status_code == 302
    assert response["Location"] == order.get_absolute_url()
    order = Order.objects.get(pk=order.pk)
    assert order.version == 2
    assert order.city == "Suzhou"
    assert list(order.lines.values_list("product_id", "quantity")) == [(mug.pk, 3)]
    assert (order.subtotal, order.shipping_fee, order.total) == (
        Decimal("150.00"),
        Decimal("10.00"),
        Decimal("160.00"),
    )
    assert Product.objects.get(pk=mug.pk).stock == 7
    assert Product.objects.get(pk=cap.pk).stock == 5
    event = order.events.get(kind=OrderEvent.Kind.EDITED)
    assert event.actor == member
    assert event.data["address"] == {"city": [ADDRESS["city"], "Suzhou"]}
    assert event.data["total"] == ["129.90", "160.00"]
    assert sorted((d["sku"], d["from"], d["to"]) for d in event.data["lines"]) == [
        ("CAP-1", 1, 0),
        ("MUG-1", 2, 3),
    ]
    page = client.get(order.get_absolute_url())
    assert "Your changes to order" in " ".join(messages_of(page))
    assert "Mug: quantity 2 → 3" in page.content.decode()


def test_edit_changes_payment_method_and_note(login, member, order):
    login(member).post(
        reverse("orders:edit", args=[order.number]),
        edit_data(order, payment_method="postal_remittance", note="Ring twice"),
    )
    order = Order.objects.get(pk=order.pk)
    assert order.payment_method == PaymentMethod.POSTAL_REMITTANCE
    assert order.customer_note == "Ring twice"
    assert order.version == 2


def test_edit_without_changes_writes_nothing(login, member, order):
    before = snapshot(order)
    response = login(member).post(
        reverse("orders:edit", args=[order.number]), edit_data(order), follow=True
    )
    assert "Nothing was changed." in messages_of(response)
    assert snapshot(order) == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"phone": "12"}, "phone"),
        ({"address_line": ""}, "address_line"),
        ({"payment_method": ""}, "payment_method"),
        ({"qty-MUG": "abc"}, "qty-MUG"),
        ({"qty-MUG": "-1"}, "qty-MUG"),
        ({"qty-MUG": "1e9"}, "qty-MUG"),
    ],
)
def test_edit_with_bad_input_shows_errors_and_changes_nothing(
    login, member, order, mug, overrides, field
):
    field = field.replace("MUG", str(mug.pk))
    overrides = {k.replace("MUG", str(mug.pk)): v for k, v in overrides.items()}
    before = snapshot(order)
    response = login(member).post(
        reverse("orders:edit", args=[order.number]), edit_data(order, **overrides)
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert snapshot(order) == before


def test_edit_to_no_items_is_refused(login, member, order, mug, cap):
    before = snapshot(order)
    response = login(member).post(
        reverse("orders:edit", args=[order.number]),
        edit_data(order, **{f"qty-{mug.pk}": "0", f"qty-{cap.pk}": "0"}),
    )
    assert response.status_code == 200
    assert "cancel the order" in " ".join(response.context["form"].non_field_errors())
    assert snapshot(order) == before


def test_edit_beyond_stock_is_refused_on_the_form(login, member, order, cap):
    before = snapshot(order)
    response = login(member).post(
        reverse("orders:edit", args=[order.number]), edit_data(order, **{f"qty-{cap.pk}": "6"})
    )
    assert response.status_code == 200
    assert "not enough stock" in " ".join(response.context["form"].non_field_errors())
    assert snapshot(order) == before


def test_stale_version_is_refused_and_the_current_order_shown(login, member, order, mug):
    client = login(member)
    stale = edit_data(order, city="Hangzhou")  # version 1
    client.post(reverse("orders:edit", args=[order.number]), edit_data(order, city="Suzhou"))
    before = snapshot(order)
    response = client.post(reverse("orders:edit", args=[order.number]), stale)
    assert response.status_code == 409
    assert any("changed meanwhile" in m for m in messages_of(response))
    form = response.context["form"]
    # What the member typed is kept on the current version; what changed is listed.
    assert (form["city"].value(), form["version"].value()) == ("Hangzhou", "2")
    assert response.context["changed"] == [f"City: {order.city} → Suzhou"]
    assert snapshot(order) == before


def test_a_change_made_by_staff_meanwhile_is_listed_and_kept(login, member, order, mug, admin_user):
    client = login(member)
    typed = edit_data(order, note="Please ring twice")  # version 1, quantity unchanged
    services.edit_order(
        admin_user,
        order,
        expected_version=1,
        lines=[(mug, 3)],
        address={**order.address_dict, "city": "Ningbo"},
        reason="As the member asked on the phone.",
    )
    response = client.post(reverse("orders:edit", args=[order.number]), typed)
    assert response.status_code == 409
    assert messages_of(response)[0].startswith("Our staff changed this order while you were")
    form = response.context["form"]
    # The staff's change stands where the member left the field alone; the note is kept.
    assert (form["city"].value(), form[f"qty-{mug.pk}"].value()) == ("Ningbo", "3")
    assert form["note"].value() == "Please ring twice"
    assert f"City: {order.city} → Ningbo" in response.context["changed"]
    client.post(reverse("orders:edit", args=[order.number]), {**typed, **_values(form)})
    order.refresh_from_db()
    assert (order.city, order.customer_note, order.lines.get().quantity) == (
        "Ningbo",
        "Please ring twice",
        3,
    )


def _values(form):
    return {name: form[name].value() for name in form.fields if form[name].value() is not None}


@pytest.mark.parametrize("trait", ["confirmed", "allocated", "shipped", "cancelled", "invalid"])
def test_editing_after_staff_acted_shows_the_refusal(login, member, trait):
    order = OrderFactory(customer=member, **{trait: True})
    before = snapshot(order)
    client = login(member)
    url = reverse("orders:edit", args=[order.number])
    response = client.get(url, follow=True)
    assert response.redirect_chain[-1][0] == order.get_absolute_url()
    assert any("can no longer be changed" in m for m in messages_of(response))
    response = client.post(url, edit_data(order, city="Suzhou"), follow=True)
    assert response.status_code == 200
    assert any("can no longer be changed" in m for m in messages_of(response))
    assert snapshot(order) == before


def test_edit_refused_when_staff_confirm_while_the_form_is_open(login, member, order, admin_user):
    from orders import services

    client = login(member)
    data = edit_data(order, city="Suzhou")
    services.confirm_order(admin_user, order, expected_version=1, call_note="ok")
    before = snapshot(order)
    response = client.post(reverse("orders:edit", args=[order.number]), data, follow=True)
    assert response.redirect_chain[-1][0] == order.get_absolute_url()
    assert any("confirmed this order" in m for m in messages_of(response))
    assert snapshot(order) == before


# --- cancel -------------------------------------------------------------------------------


def test_cancel_asks_for_confirmation_first(login, member, order):
    before = snapshot(order)
    response = login(member).get(reverse("orders:cancel", args=[order.number]))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Cancel order {order.number}?" in html
    assert 'for="id_reason"' in html
    assert snapshot(order) == before


def test_cancel_post_cancels_and_returns_stock(login, member, order, mug, cap):
    client = login(member)
    response = client.post(
        reverse("orders:cancel", args=[order.number]), {"reason": "Ordered by mistake"}
    )
    assert response.status_code == 302
    assert response["Location"] == order.get_absolute_url()
    order = Order.objects.get(pk=order.pk)
    assert order.status == Status.CANCELLED
    assert order.payment_status == PaymentStatus.UNPAID
    assert Product.objects.get(pk=mug.pk).stock == 10
    assert Product.objects.get(pk=cap.pk).stock == 5
    event = order.events.get(kind=OrderEvent.Kind.CANCELLED)
    assert event.actor == member and event.note == "Ordered by mistake"
    page = client.get(order.get_absolute_url())
    assert "Your note: Ordered by mistake" in page.content.decode()
    assert page.context["can_cancel"] is False


def test_cancel_without_reason_is_fine_for_the_member(login, member, order):
    login(member).post(reverse("orders:cancel", args=[order.number]), {})
    assert Order.objects.get(pk=order.pk).status == Status.CANCELLED


def test_cancel_twice_returns_stock_once(login, member, order, mug):
    client = login(member)
    url = reverse("orders:cancel", args=[order.number])
    client.post(url, {})
    response = client.post(url, {}, follow=True)
    assert response.status_code == 200
    assert any("is cancelled" in m for m in messages_of(response))
    assert Product.objects.get(pk=mug.pk).stock == 10
    assert Order.objects.get(pk=order.pk).events.filter(kind="cancelled").count() == 1


@pytest.mark.parametrize("trait", ["confirmed", "allocated", "shipped"])
def test_cancelling_after_staff_confirmed_shows_the_refusal(login, member, trait):
    order = OrderFactory(customer=member, **{trait: True})
    before = snapshot(order)
    client = login(member)
    url = reverse("orders:cancel", args=[order.number])
    for response in (client.get(url, follow=True), client.post(url, {}, follow=True)):
        assert response.redirect_chain[-1][0] == order.get_absolute_url()
        assert any("can no longer be" in m for m in messages_of(response))
    assert snapshot(order) == before


def test_edit_adds_a_new_item_from_the_search_at_todays_price(login, member, order, mug):
    # issue 11: the member picks the product from a search by name or SKU, not a SKU box
    tea = ProductFactory(sku="TEA-JASMINE", name="Jasmine tea", price=Decimal("30.00"), stock=6)
    client = login(member)
    response = client.post(
        reverse("orders:edit", args=[order.number]),
        edit_data(order, **{f"add-{tea.pk}": "2"}),
    )
    assert response.status_code == 302
    order = Order.objects.get(pk=order.pk)
    assert sorted(order.lines.values_list("sku", "quantity", "unit_price")) == [
        ("CAP-1", 1, Decimal("19.90")),
        ("MUG-1", 2, Decimal("50.00")),
        ("TEA-JASMINE", 2, Decimal("30.00")),
    ]
    assert order.total == Decimal("189.90")
    assert Product.objects.get(pk=tea.pk).stock == 4
    event = order.events.get(kind=OrderEvent.Kind.EDITED)
    assert [(d["sku"], d["from"], d["to"]) for d in event.data["lines"]] == [("TEA-JASMINE", 0, 2)]


def test_edit_with_an_unknown_or_hidden_product_changes_nothing(login, member, order):
    hidden = ProductFactory(sku="HIDDEN-1", is_visible=False, stock=5)
    before = snapshot(order)
    client = login(member)
    path = reverse("orders:edit", args=[order.number])
    response = client.post(path, edit_data(order, **{f"add-{hidden.pk}": "1"}))
    assert response.status_code == 200
    assert "is no longer available" in response.content.decode()
    assert snapshot(order) == before
    client.post(path, edit_data(order, **{"add-999999": "1"}))  # no such product: ignored
    assert snapshot(order) == before


def test_edit_adding_more_than_in_stock_is_refused(login, member, order):
    last = ProductFactory(sku="LAST-ONE", stock=1)
    before = snapshot(order)
    response = login(member).post(
        reverse("orders:edit", args=[order.number]),
        edit_data(order, **{f"add-{last.pk}": "2"}),
    )
    assert response.status_code == 200
    assert "not enough stock" in response.content.decode()
    assert snapshot(order) == before
