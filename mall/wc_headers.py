"""Column headers of WooCommerce's product export, as its translations write them.

WooCommerce's exporter (``WC_Product_CSV_Exporter::get_default_column_names``) writes its
column headers through ``__()``, so a shop whose admin language is French exports
``UGS``, ``Nom``, ``Tarif régulier``... instead of ``SKU``, ``Name``, ``Regular price``.

Source: the WooCommerce "Stable (latest release)" project on translate.wordpress.org
(https://translate.wordpress.org/projects/wp-plugins/woocommerce/stable/), the strings of
that exporter (``Stock`` is the msgid ``Stock`` in the context ``Quantity in stock``).
Where the wording changed between WooCommerce releases both spellings are listed (e.g.
German ``Lager`` before ``Bestand``). The fr_FR, de_DE, es_ES, ru_RU and zh_CN headers
were checked against real exports from those shops' admin languages. The zh_TW, ja and
pt_BR headers were read from that project's language packs as WordPress installs them
(``wp-content/languages/plugins/woocommerce-<locale>.l10n.php``), in these public copies:

* zh_TW: github.com/chang180/wordpress-wsl @ 9f7acbac63cc8c605207d72f0a540c33ecffc79d
* ja: github.com/hiroyuki92/grape-order-system @ 532186583d58d9f6a2b0ae2d8f547c646869f865
* pt_BR: github.com/ViniciusSilva97/smarteletrovini.com.br
  @ 8a59b55f5bacbaaa1d9f54e8d8bb89ecd322559c

An entry marked ``# not found`` was not located in those files (they hold some 4,000
strings each); it stays as the best reading until a real export confirms it.

Data only: ``mall.importer`` matches headers case-insensitively after Unicode (NFKC)
normalisation, with typographic apostrophes read as ``'`` and runs of spaces as one, so
``属性 1  的全局`` and ``Nom de l'attribut 1`` match. ``{n}`` in an attribute header is
the attribute's number. Keys are our field names (see ``mall.importer``).
"""

# field -> the English header WooCommerce writes (and the importer always understands).
ENGLISH = {
    "id": ["ID"],
    "type": ["Type"],
    "sku": ["SKU"],
    "name": ["Name"],
    "published": ["Published"],
    "visibility": ["Visibility in catalog", "Visibility in catalogue"],
    "short_description": ["Short description"],
    "description": ["Description"],
    "sale_starts": ["Date sale price starts"],
    "sale_ends": ["Date sale price ends"],
    "in_stock": ["In stock?"],
    "stock": ["Stock"],
    "sale_price": ["Sale price"],
    "price": ["Regular price"],
    "categories": ["Categories"],
    "images": ["Images"],
    "parent": ["Parent"],
    "position": ["Position"],
    "attribute_name": ["Attribute {n} name"],
    "attribute_value": ["Attribute {n} value(s)", "Attribute {n} values", "Attribute {n} value"],
}

# locale -> field -> translated headers.
TRANSLATED = {
    "zh_CN": {
        "type": ["类型"],
        "sku": ["SKU", "库存单位"],
        "name": ["名称"],
        "published": ["已发布"],
        "visibility": ["在列表页可见", "目录可见性"],
        "short_description": ["简单描述", "简短描述"],
        "description": ["描述"],
        "sale_starts": ["促销开始日期"],
        "sale_ends": ["促销截止日期"],
        "in_stock": ["有货？", "有货?"],
        "stock": ["库存"],
        "sale_price": ["促销价格"],
        "price": ["常规售价"],
        "categories": ["分类"],
        "images": ["图片"],
        "parent": ["父级"],
        "position": ["位置"],
        "attribute_name": ["属性 {n} 名称"],
        "attribute_value": ["属性 {n} 值"],
    },
    # zh_TW, ja, pt_BR: checked string by string against WooCommerce's language packs (see
    # the module docstring); "# not found" marks an entry the check did not reach.
    "zh_TW": {
        "id": ["代碼"],
        "type": ["類型"],
        "sku": ["貨號"],
        "name": ["名稱"],
        "published": ["已發佈"],
        "visibility": ["目錄的可見度"],
        "short_description": ["簡短內容說明"],
        "description": ["描述"],
        "sale_starts": ["折扣價開始日期"],
        "sale_ends": ["折扣價結束日期"],
        "in_stock": ["有庫存？"],
        "stock": ["庫存"],
        "sale_price": ["特價"],
        "price": ["原價"],
        "categories": ["分類"],
        "images": ["圖片"],
        "parent": ["上層"],
        "position": ["位置"],
        "attribute_name": ["屬性 {n} 名稱"],
        "attribute_value": ["屬性 {n} 值"],
    },
    "fr_FR": {
        "sku": ["UGS"],
        "name": ["Nom"],
        "published": ["Publié"],
        "visibility": ["Visibilité dans le catalogue"],
        "short_description": ["Description courte"],
        "sale_starts": ["Date de début de promo"],
        "sale_ends": ["Date de fin de promo"],
        "in_stock": ["En stock ?", "En stock?"],
        "sale_price": ["Tarif promo"],
        "price": ["Tarif régulier"],
        "categories": ["Catégories"],
        "position": ["Position"],
        "attribute_name": ["Nom de l’attribut {n}"],
        "attribute_value": ["Valeur(s) de l’attribut {n}"],
    },
    "de_DE": {
        "type": ["Typ"],
        "sku": ["Artikelnummer"],
        "published": ["Veröffentlicht"],
        "visibility": ["Sichtbarkeit im Katalog"],
        "short_description": ["Kurzbeschreibung"],
        "description": ["Beschreibung"],
        "sale_starts": ["Datum, an dem Angebotspreis beginnt"],
        "sale_ends": ["Datum, an dem Angebotspreis endet"],
        "in_stock": ["Vorrätig?"],
        "stock": ["Bestand", "Lager"],
        "sale_price": ["Angebotspreis"],
        "price": ["Regulärer Preis"],
        "categories": ["Kategorien"],
        "images": ["Bilder"],
        "parent": ["Übergeordnetes Produkt"],
        "attribute_name": ["Attribut {n} Name"],
        "attribute_value": ["Attribut {n} Wert(e)"],
    },
    "es_ES": {
        "type": ["Tipo"],
        "name": ["Nombre"],
        "published": ["Publicado"],
        "visibility": ["Visibilidad en el catálogo"],
        "short_description": ["Descripción corta"],
        "description": ["Descripción"],
        "sale_starts": ["Día en que empieza el precio rebajado"],
        "sale_ends": ["Día en que termina el precio rebajado"],
        "in_stock": ["¿Existencias?", "¿En inventario?"],
        "stock": ["Inventario"],
        "sale_price": ["Precio rebajado"],
        "price": ["Precio normal"],
        "categories": ["Categorías"],
        "images": ["Imágenes"],
        "parent": ["Superior"],
        "position": ["Posición"],
        "attribute_name": ["Nombre del atributo {n}", "Atributo {n} nombre"],
        "attribute_value": ["Valor(es) del atributo {n}", "Atributo {n} valor(es)"],
    },
    "ru_RU": {
        "type": ["Тип"],
        "sku": ["Артикул"],
        "name": ["Имя"],
        "published": ["Опубликован"],
        "visibility": ["Видимость в каталоге"],
        "short_description": ["Краткое описание"],
        "description": ["Описание"],
        "sale_starts": ["Дата начала действия скидки"],
        "sale_ends": ["Дата окончания действия скидки"],
        "in_stock": ["Наличие", "В наличии?"],
        "stock": ["Запасы"],
        "sale_price": ["Акционная цена"],
        "price": ["Базовая цена"],
        "categories": ["Категории"],
        "images": ["Изображения"],
        "parent": ["Родительский"],
        "position": ["Позиция"],
        "attribute_name": ["Название атрибута {n}"],
        "attribute_value": ["Значения атрибутов {n}"],
    },
    "ja": {
        "type": ["タイプ"],
        "name": ["名前"],
        "published": ["公開済み"],
        "visibility": ["カタログでの表示"],
        "short_description": ["簡単な説明"],
        "description": ["説明"],
        "sale_starts": ["セール価格の開始日"],
        "sale_ends": ["セール価格の終了日"],
        "in_stock": ["在庫の有無"],
        "stock": ["在庫"],
        "sale_price": ["セール価格"],
        "price": ["標準価格"],
        "categories": ["カテゴリー"],
        "images": ["画像"],
        "parent": ["親"],
        "position": ["位置"],
        "attribute_name": ["属性 {n} の名前"],
        "attribute_value": ["属性 {n} の値"],
    },
    "pt_BR": {
        "type": ["Tipo"],
        "name": ["Nome"],
        "published": ["Publicado"],
        "visibility": ["Visibilidade no catálogo"],
        "short_description": ["Descrição curta"],
        "description": ["Descrição"],
        "sale_starts": ["Data de preço promocional começa em"],
        "sale_ends": ["Data de preço promocional termina em"],
        "in_stock": ["Em estoque?"],
        "stock": ["Estoque"],
        "sale_price": ["Preço promocional"],
        "price": ["Preço"],
        "categories": ["Categorias"],
        "images": ["Imagens"],
        "parent": ["Ascendente"],
        "position": ["Posição"],  # not found
        "attribute_name": ["Nome do atributo {n}"],
        "attribute_value": ["Valores do atributo {n}"],
    },
}


def english_header(attributes=2):
    """The English header row WooCommerce writes for the columns above, in its order.

    ``attributes``: how many attribute pairs (``Attribute 1 name``, ``Attribute 1
    value(s)``, ...) end the row. Tests and the import benchmark write their files with it.
    """
    row = [headers[0] for field, headers in ENGLISH.items() if not field.startswith("attribute_")]
    for number in range(1, attributes + 1):
        row.append(ENGLISH["attribute_name"][0].format(n=number))
        row.append(ENGLISH["attribute_value"][0].format(n=number))
    return row


def all_headers():
    """Yield ``(field, header, locale)`` for every header of every language above."""
    for field, headers in ENGLISH.items():
        for header in headers:
            yield field, header, "en"
    for locale, fields in TRANSLATED.items():
        for field, headers in fields.items():
            for header in headers:
                yield field, header, locale
