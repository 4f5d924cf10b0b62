"""Template helpers of the member's order pages.

``money`` is the storefront's filter (``mall.templatetags.shop.money``), registered here
too so order templates format amounts exactly as the catalogue does.
"""

from django import template

from mall.templatetags.shop import money

register = template.Library()
register.filter("money", money)
