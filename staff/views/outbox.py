"""The member e-mail outbox (issue 15): e-mails that failed, and a button to send again."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from orders import services
from orders.exceptions import NotPermitted, OrderError
from staff.views._base import StaffRequiredMixin

PAGE_SIZE = 50


class OutboxPermissionMixin(StaffRequiredMixin):
    """Order admins (``orders.retry_email``) only; other staff get 403."""

    nav = "outbox"

    def check_permission(self, request):
        try:
            services.check_retry_email(request.user)
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc


class OutboxView(OutboxPermissionMixin, TemplateView):
    """Member e-mails that failed (newest first, ``PAGE_SIZE`` a page): order, e-mail,
    attempts, the last error, and a retry button each."""

    template_name = "staff/outbox.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = Paginator(services.failed_emails(), PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(page=page, emails=page.object_list)
        return context


class OutboxRetryView(OutboxPermissionMixin, View):
    """POST: send failed e-mail ``pk`` again (``services.retry_email``); back to the outbox
    with a message saying it is on its way or why not."""

    http_method_names = ["post"]

    def post(self, request, pk):
        try:
            email = services.retry_email(request.user, pk)
        except OrderError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("The e-mail “%(kind)s” of order %(number)s is being sent again.")
                % {"kind": email.kind_label, "number": email.order.number},
            )
        return redirect(reverse("staff:outbox"))
