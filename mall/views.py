"""Storefront views: home, category, product, search; sign-in, sign-up, sign-out.

Pages read through :mod:`mall.catalogue`, so each page runs a fixed number of queries.
Add-to-cart forms post to ``orders:cart-add`` (fields ``product`` and ``quantity``); the
cart itself lives in the ``orders`` app.
"""

import unicodedata

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView
from modeltranslation.utils import build_localized_fieldname

from mall.accounts import set_language_cookie
from mall.catalogue import CategoryTree, decorate, listed_products, max_quantity, offer_for
from mall.formatting import normalize_typed
from mall.forms import RegisterForm
from mall.http import safe_next
from mall.models import Profile
from orders.selectors import is_order_staff

PAGE_SIZE = 24
SEARCH_MAX_LENGTH = 100


def _page(request, queryset):
    """The requested page of ``queryset`` (a bad ``?page=`` gives the nearest page)."""
    paginator = Paginator(queryset, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = decorate(page.object_list)
    page.elided_range = list(paginator.get_elided_page_range(page.number, on_each_side=2))
    return page


class HomeView(TemplateView):
    """The whole visible catalogue, 24 products a page, with the category tree."""

    template_name = "mall/home.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            tree=CategoryTree.load(), page=_page(self.request, listed_products()), **kwargs
        )


class CategoryView(TemplateView):
    """The visible products of a category and of every category below it."""

    template_name = "mall/category.html"

    def get_context_data(self, *, slug, **kwargs):
        tree = CategoryTree.load()
        category = tree.by_slug.get(slug)
        if category is None:
            raise Http404(_("No such category."))
        products = listed_products().filter(categories__in=tree.descendant_ids(category)).distinct()
        return super().get_context_data(
            tree=tree,
            category=category,
            breadcrumbs=tree.ancestors(category),
            subcategories=[child for child in category.tree_children if child.has_products],
            page=_page(self.request, products),
            **kwargs,
        )


class ProductView(TemplateView):
    """One listed product; a variable product offers its variations in a select.

    Hidden products, unknown slugs and variations (whose page is their parent's) are 404.
    """

    template_name = "mall/product_detail.html"

    def get_context_data(self, *, slug, **kwargs):
        if "\x00" in slug:
            raise Http404(_("No such product."))  # PostgreSQL refuses NUL in a query
        product = get_object_or_404(listed_products(), slug=slug)
        decorate([product])
        variations = []
        for variation in product.visible_variations:
            variation.parent = product
            variation.offer = offer_for(variation)
            variation.max_quantity = max_quantity(variation)
            variations.append(variation)
        chosen = next((v for v in variations if v.offer.available), None)
        # Attributes some variations leave to the customer (WooCommerce "any value"): one
        # select each, required when every variation leaves it open.
        open_choices = {}
        for variation in variations:
            for name, values in (variation.attribute_choices or {}).items():
                known = open_choices.setdefault(name, [])
                known += [value for value in values if value not in known]
        choice_fields = [
            {
                "name": name,
                "values": values,
                "required": all(name in (v.attribute_choices or {}) for v in variations),
            }
            for name, values in open_choices.items()
        ]

        tree = CategoryTree.load()
        categories = [tree.by_pk[c.pk] for c in product.categories.all() if c.pk in tree.by_pk]
        for node in categories:
            node.path_label = " > ".join(n.name for n in tree.ancestors(node))
        category = categories[0] if categories else None
        related = []
        if category is not None:
            related = decorate(
                listed_products().filter(categories=category).exclude(pk=product.pk)[:4]
            )
        return super().get_context_data(
            tree=tree,
            product=product,
            variations=variations,
            chosen=chosen,
            choice_fields=choice_fields,
            categories=categories,
            breadcrumbs=tree.ancestors(category) if category else [],
            related=related,
            max_quantity=max_quantity(chosen or product),
            **kwargs,
        )


def clean_query(raw):
    """``raw`` search text made plain: control and format characters (NUL, zero-width
    spaces…) dropped, full-width characters normalised (NFKC), whitespace runs made one
    space, cut to ``SEARCH_MAX_LENGTH``.

    Returns ``""`` when nothing searchable is left (the page then shows its prompt).
    """
    kept = "".join(
        char
        for char in raw[: SEARCH_MAX_LENGTH * 10]
        if char.isspace() or not unicodedata.category(char).startswith("C")
    )
    return normalize_typed(kept)[:SEARCH_MAX_LENGTH]  # full-width SKUs become ASCII


class SearchView(TemplateView):
    """Listed products whose name in any language or SKU (or a variation's SKU) contains
    ``?q=``, any case."""

    template_name = "mall/search.html"

    def get_context_data(self, **kwargs):
        query = clean_query(self.request.GET.get("q", ""))
        page = None
        if query:
            matches = Q()
            for code, _label in settings.LANGUAGES:  # a name in either language matches
                matches |= Q(**{f"{build_localized_fieldname('name', code)}__icontains": query})
            matches = (
                matches
                | Q(sku__icontains=query)
                | Q(variations__sku__icontains=query, variations__is_visible=True)
            )
            page = _page(self.request, listed_products().filter(matches).distinct())
        return super().get_context_data(tree=CategoryTree.load(), query=query, page=page, **kwargs)


class LoginView(auth_views.LoginView):
    """Django's sign-in (django-axes locks out repeated failures).

    Without a ``next``, staff land on the back office (``/staff/``) and members on the
    shop. A member's saved language (``Profile.language``) becomes the site's language.
    """

    template_name = "registration/login.html"

    def get_default_redirect_url(self):
        if self.next_page is None and is_order_staff(self.request.user):
            return reverse("staff:dashboard")
        return super().get_default_redirect_url()

    def form_valid(self, form):
        response = super().form_valid(form)
        profile = Profile.objects.filter(user=form.get_user()).first()
        if profile and profile.language:
            set_language_cookie(response, profile.language)
        return response


class LogoutView(auth_views.LogoutView):
    """Django's sign-out (POST only; the form is in ``base.html``)."""


class RegisterView(FormView):
    """Sign up as a member, then sign in and go to ``next`` (a local URL) or home."""

    template_name = "registration/register.html"
    form_class = RegisterForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return HttpResponseRedirect(self.get_success_url())
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        user = form.save()
        login(self.request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            self.request,
            _("Welcome, %(name)s! Your account is ready.") % {"name": user.get_username()},
        )
        return HttpResponseRedirect(self.get_success_url())

    def get_success_url(self):
        target = self.request.POST.get("next") or self.request.GET.get("next") or ""
        return safe_next(self.request, target) or resolve_url(settings.LOGIN_REDIRECT_URL)

    def get_context_data(self, **kwargs):
        target = self.request.POST.get("next") or self.request.GET.get("next") or ""
        return super().get_context_data(next=safe_next(self.request, target) or "", **kwargs)
