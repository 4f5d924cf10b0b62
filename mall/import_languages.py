"""The importer's ``--language`` run: the categories of products matched by SKU.

A catalogue is imported once per language (``import_products(..., language=...)``):
products are matched by SKU, so the second file only fills the other language's names and
descriptions. Categories have no SKU: a category path of a matched product that does not
name any category in the run's language is taken as the translation of the product's
existing category path of the same depth, level by level (Clothing > Hoodies ↔ 服装 > 卫衣).
Only empty names are filled; a name already given in that language is never changed.
"""

from modeltranslation.utils import build_localized_fieldname

from mall.models import Category, Product


def name_categories(rows, language):
    """Name in ``language`` the existing categories that ``rows`` give translations for.

    ``rows``: the importer's parsed rows (``sku`` and ``categories``, a list of tuples of
    names). Rows with one category path go first, so a product in two sibling categories
    finds them already named. Returns the number of categories named.
    """
    column = build_localized_fieldname("name", language)
    wanted = [row for row in rows if getattr(row, "categories", None) and row.sku]
    if not wanted:
        return 0
    products = dict(
        Product.objects.filter(sku__in={row.sku for row in wanted})
        .order_by()
        .values_list("sku", "pk")
    )
    if not products:
        return 0  # a first import: nothing to pair with (one query)
    nodes = {c.pk: c for c in Category.objects.rewrite(False).all()}
    links = {}
    through = Product.categories.through
    for product_id, category_id in through.objects.filter(
        product_id__in=products.values()
    ).values_list("product_id", "category_id"):
        links.setdefault(product_id, []).append(category_id)

    def path_of(pk):
        path, node, seen = [], nodes.get(pk), set()
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            path.append(node)
            node = nodes.get(node.parent_id)
        return list(reversed(path))

    def named(node):
        return getattr(node, column) or ""

    # (parent id, name in the run's language) -> the first such category, kept up to date
    # as names are filled in: one look-up per level instead of a scan of all categories.
    by_name = {}
    for node in nodes.values():
        by_name.setdefault((node.parent_id, named(node)), node)

    def resolves(names):
        parent_id = None
        for name in names:
            match = by_name.get((parent_id, name))
            if match is None:
                return False
            parent_id = match.pk
        return True

    count = 0
    for row in sorted(wanted, key=lambda r: len(r.categories)):
        product_id = products.get(row.sku)
        if product_id is None:
            continue
        taken = set()
        for names in row.categories:
            if resolves(names):
                continue
            candidates = [
                path
                for path in (path_of(pk) for pk in sorted(links.get(product_id, [])))
                if len(path) == len(names)
                and path[-1].pk not in taken
                and all(named(node) in ("", name) for node, name in zip(path, names, strict=True))
            ]
            if len(candidates) != 1:
                continue  # nothing to pair with, or ambiguous: left for the admin
            path = candidates[0]
            taken.add(path[-1].pk)
            for node, name in zip(path, names, strict=True):
                if named(node):
                    continue
                if (node.parent_id, name) in by_name:
                    continue  # the name belongs to another category already
                setattr(node, column, name)
                by_name[(node.parent_id, name)] = node
                Category.objects.rewrite(False).filter(pk=node.pk).update(**{column: name})
                count += 1
    return count
