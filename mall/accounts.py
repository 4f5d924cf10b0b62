"""Account pages: the member's details and saved addresses, password change and reset.

Password change and reset are Django's own views (``django.contrib.auth.views``) with our
templates; the reset is throttled per client address and per e-mail address
(``MALL_PASSWORD_RESET_LIMIT`` requests an hour each), and its e-mail is written in the
member's language.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView

from mall.forms import AccountForm, AddressForm, ResetPasswordForm
from mall.models import Address, Profile

RESET_WINDOW = 3600  # seconds


def set_language_cookie(response, language):
    """Make ``language`` the site's language for this browser (as ``set_language`` does)."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


def reset_allowed(request, email):
    """Count one password-reset request; ``False`` once the client address or the e-mail
    address has asked ``MALL_PASSWORD_RESET_LIMIT`` times within the hour.

    Both counters move whether or not an account has that e-mail address, so the answer
    tells nothing about which addresses are members'.
    """
    limit = settings.MALL_PASSWORD_RESET_LIMIT
    keys = [
        f"password-reset:ip:{request.META.get('REMOTE_ADDR', '')}",
        f"password-reset:email:{email.strip().lower()}",
    ]
    counts = []
    for key in keys:
        cache.add(key, 0, RESET_WINDOW)
        try:
            counts.append(cache.incr(key))
        except ValueError:  # expired between add and incr
            cache.set(key, 1, RESET_WINDOW)
            counts.append(1)
    return max(counts) <= limit


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link by e-mail (Django's view), throttled by :func:`reset_allowed`."""

    form_class = ResetPasswordForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        if not reset_allowed(self.request, form.cleaned_data["email"]):
            form.add_error(
                None,
                _("Too many password reset requests. Please wait an hour, or call us on %(phone)s.")
                % {"phone": settings.MALL_PHONE},
            )
            return self.form_invalid(form)
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Choose a new password from the e-mailed link; a used or wrong link says so."""

    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's own password (members and staff); the session stays signed in."""

    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "registration/password_change_done.html"


class AccountView(LoginRequiredMixin, FormView):
    """``/account/``: name, phone, e-mail and language; the saved addresses below."""

    template_name = "mall/account.html"
    form_class = AccountForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        user = self.request.user
        profile = Profile.objects.filter(user=user).first()
        return {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "phone": profile.phone if profile else "",
            "language": (profile and profile.language) or translation.get_language(),
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(addresses=list(self.request.user.addresses.all()), **kwargs)

    def form_valid(self, form):
        form.save()
        language = form.cleaned_data["language"]
        with translation.override(language):
            messages.success(self.request, _("Your details are saved."))
        return set_language_cookie(HttpResponseRedirect(reverse("account")), language)


@transaction.atomic
def save_address(form, user):
    """Save the address ``form`` holds for ``user``; if it is (or is the first, so becomes)
    the default, the member's other addresses stop being the default."""
    address = form.save(commit=False)
    address.user = user
    others = Address.objects.select_for_update().filter(user=user).exclude(pk=address.pk)
    if not others.exists():
        address.is_default = True
    if address.is_default:
        others.filter(is_default=True).update(is_default=False)
    address.save()
    return address


class AddressFormView(LoginRequiredMixin, FormView):
    """Add a saved address (``/account/addresses/new/``) or change one (``…/<id>/``).

    Another member's address is a 404.
    """

    template_name = "mall/address_form.html"
    form_class = AddressForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        address_id = self.kwargs.get("address_id")
        if address_id is not None:
            kwargs["instance"] = get_object_or_404(Address, pk=address_id, user=self.request.user)
        return kwargs

    def form_valid(self, form):
        save_address(form, self.request.user)
        messages.success(self.request, _("Address saved."))
        return redirect("account")


class AddressDeleteView(LoginRequiredMixin, View):
    """POST ``confirm=yes``: delete one of the member's saved addresses (orders keep their
    own copy); without it nothing is deleted and the account page says so."""

    def get(self, request, *args, **kwargs):
        return HttpResponseNotAllowed(["POST"])

    @transaction.atomic
    def post(self, request, address_id):
        address = get_object_or_404(
            Address.objects.select_for_update(), pk=address_id, user=request.user
        )
        if request.POST.get("confirm") != "yes":
            messages.warning(request, _("Nothing was deleted."))
            return redirect("account")
        address.delete()
        if address.is_default:
            nxt = Address.objects.filter(user=request.user).first()
            if nxt is not None:
                Address.objects.filter(pk=nxt.pk).update(is_default=True)
        messages.success(request, _("Address deleted."))
        return redirect("account")


class AddressDefaultView(LoginRequiredMixin, View):
    """POST: make one of the member's saved addresses the one checkout starts from."""

    def get(self, request, *args, **kwargs):
        return HttpResponseNotAllowed(["POST"])

    @transaction.atomic
    def post(self, request, address_id):
        address = get_object_or_404(
            Address.objects.select_for_update(), pk=address_id, user=request.user
        )
        Address.objects.filter(user=request.user, is_default=True).exclude(pk=address.pk).update(
            is_default=False
        )
        Address.objects.filter(pk=address.pk).update(is_default=True)
        messages.success(request, _("Checkout will start from this address."))
        return redirect("account")
