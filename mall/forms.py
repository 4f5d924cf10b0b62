"""Storefront forms: member registration, the account page, saved addresses, password reset."""

import re

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm, UserCreationForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from mall.formatting import CodeField
from mall.models import Address, Profile


class RegisterForm(UserCreationForm):
    """Sign up as a member: username, e-mail (required, unique ignoring case), password twice.

    Passwords go through ``AUTH_PASSWORD_VALIDATORS``; usernames differing only in case
    are refused (``UserCreationForm``).
    """

    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        help_text=_("We send order confirmations and delivery updates here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self):
        email = get_user_model().objects.normalize_email(self.cleaned_data["email"].strip())
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise ValidationError(
                _("An account with this e-mail address already exists. Sign in instead."),
                code="duplicate_email",
            )
        return email


class AccountForm(forms.Form):
    """The account page: name, phone, e-mail (unique ignoring case) and language.

    ``save()`` writes the user and their :class:`~mall.models.Profile`.
    """

    first_name = forms.CharField(label=_("Given name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Family name"), max_length=150, required=False)
    phone = CodeField(
        label=_("Phone number"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        help_text=_("We send order confirmations, delivery updates and password resets here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=settings.LANGUAGES,
        help_text=_("The language of this site and of our e-mails to you."),
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_email(self):
        email = get_user_model().objects.normalize_email(self.cleaned_data["email"].strip())
        taken = get_user_model().objects.filter(email__iexact=email).exclude(pk=self.user.pk)
        if taken.exists():
            raise ValidationError(
                _("Another account uses this e-mail address."), code="duplicate_email"
            )
        return email

    def clean_phone(self):
        """The same rule as a delivery phone (``orders.services.clean_address``)."""
        from orders import services

        phone = " ".join(self.cleaned_data["phone"].split())
        digits = re.sub(r"\D", "", phone)
        if phone and (not services.PHONE_RE.match(phone) or not 7 <= len(digits) <= 15):
            raise ValidationError(
                _("Enter a phone number we can call, e.g. 138 0013 8000 or 021-5555 1234."),
                code="phone",
            )
        return phone

    @transaction.atomic
    def save(self):
        """Write the user's name and e-mail and the profile's phone and language."""
        user = self.user
        user.first_name = self.cleaned_data["first_name"].strip()
        user.last_name = self.cleaned_data["last_name"].strip()
        user.email = self.cleaned_data["email"]
        user.save(update_fields=["first_name", "last_name", "email"])
        profile = Profile.for_user(user)
        profile.phone = self.cleaned_data["phone"]
        profile.language = self.cleaned_data["language"]
        profile.save(update_fields=["phone", "language"])
        return user


class AddressForm(forms.ModelForm):
    """A saved delivery address, cleaned by the same rules as checkout's
    (``orders.services.clean_address``), so a saved address always places an order."""

    class Meta:
        model = Address
        fields = (*Address.FIELDS, "is_default")
        labels = {"is_default": _("Use this address at checkout")}
        # Typed digits: full-width ones are read as ASCII before the length check.
        field_classes = {"phone": CodeField, "postcode": CodeField}
        widgets = {
            "recipient": forms.TextInput(attrs={"autocomplete": "name"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "region": forms.TextInput(attrs={"autocomplete": "address-level1"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "address_line": forms.TextInput(attrs={"autocomplete": "street-address"}),
            "postcode": forms.TextInput(attrs={"autocomplete": "postal-code"}),
        }

    def clean(self):
        from orders import services
        from orders.exceptions import InvalidInput

        cleaned = super().clean()
        if any(name in self.errors for name in Address.FIELDS):
            return cleaned
        try:
            cleaned.update(services.clean_address({f: cleaned.get(f, "") for f in Address.FIELDS}))
        except InvalidInput as error:
            fields = error.details.get("fields") or {}
            if not fields:
                self.add_error(None, error.message)
            for name, message in fields.items():
                self.add_error(name if name in self.fields else None, message)
        return cleaned


class ResetPasswordForm(PasswordResetForm):
    """Django's password reset form, the e-mail written in the member's language.

    The member's saved language (``Profile.language``) if any, else the page's.
    """

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        user = context.get("user")
        profile = Profile.objects.filter(user=user).first() if user is not None else None
        language = (profile and profile.language) or translation.get_language()
        with translation.override(language):
            context = {**context, "MALL_NAME": settings.MALL_NAME}
            super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)
