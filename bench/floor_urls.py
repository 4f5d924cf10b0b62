"""The shop's URLs plus the benchmark's floor view (``bench.floor``)."""

from bench.floor import urlpatterns as floor
from mall.urls import urlpatterns as shop

urlpatterns = [*floor, *shop]
