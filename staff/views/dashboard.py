"""The back office's home page: the queues this user works on."""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView

from orders import selectors
from orders.models import LOGISTICS, STAFF_GROUPS, Status
from staff.templatetags.staff_tags import due_label, waiting_label
from staff.views._base import StaffRequiredMixin, role_labels


class DashboardView(StaffRequiredMixin, TemplateView):
    """The queues this user works on, with counts and the oldest waiting time."""

    template_name = "staff/dashboard.html"
    nav = "dashboard"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        now = timezone.now()
        list_url = reverse("staff:order-list")
        queues = selectors.dashboard_queues(user)
        for queue in queues:
            queue["url"] = f"{list_url}?{queue['query']}"
            label = due_label if queue.get("oldest_field") == "call_back_at" else waiting_label
            queue["waiting"] = label(queue["oldest"], now) if queue["count"] else ""
        roles = selectors.staff_roles(user)
        labels = role_labels()
        context.update(
            queues=queues,
            confirm_target_hours=settings.MALL_CONFIRM_TARGET_HOURS,
            role_names=[labels[r] for r in STAFF_GROUPS if r in roles],
            is_logistics=LOGISTICS in roles,
            open_deliveries=(
                selectors.deliveries_for(user).filter(status=Status.ALLOCATED).count()
                if LOGISTICS in roles
                else None
            ),
        )
        return context
