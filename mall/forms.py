"""Storefront forms: member registration."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


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
