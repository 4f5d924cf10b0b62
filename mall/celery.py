"""The Celery application (issue 15): ``celery -A mall worker``.

Configuration comes from Django's settings, every ``CELERY_*`` name (broker URL,
``acks_late``, the visibility timeout...). Tasks live in ``orders.tasks``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mall.settings")

app = Celery("mall")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
