"""New rows written in one ``INSERT … RETURNING`` whose text is built once per process.

``Model.save()`` and ``bulk_create`` build their ``INSERT`` anew on every call (the
query, its compiler, the placeholders); on the checkout's path that cost more than the
database's work (issue 16). ``insert`` writes the same columns with the same values —
each field's ``pre_save`` (``auto_now_add``) and ``get_db_prep_save`` (decimals, JSON,
time zones), as Django's own insert does — from a statement kept per model, database
and row count. The models written here have no save signals or overridden ``save``.
"""

import functools

from django.db import connections, router


def insert(objs):
    """Insert ``objs`` (unsaved instances of one model, primary key unset) in one
    statement and set their primary keys; returns ``objs``.

    Raises what the database raises (``IntegrityError`` for a taken unique value),
    changing nothing. A database that cannot return the new keys from a multi-row
    insert gets ``bulk_create``.
    """
    objs = list(objs)
    if not objs:
        return objs
    model = type(objs[0])
    alias = router.db_for_write(model)
    connection = connections[alias]
    if not connection.features.can_return_rows_from_bulk_insert:
        return model._base_manager.using(alias).bulk_create(objs)
    fields = _fields(model)
    sql = _sql(model, alias, connection.vendor, len(objs))
    params = [
        field.get_db_prep_save(field.pre_save(obj, True), connection=connection)
        for obj in objs
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        keys = cursor.fetchall()
    pk = model._meta.pk
    for obj, (key,) in zip(objs, keys, strict=True):
        setattr(obj, pk.attname, key)
        obj._state.adding = False
        obj._state.db = alias
    return objs


@functools.cache
def _fields(model):
    return [f for f in model._meta.concrete_fields if not f.primary_key]


@functools.cache
def _sql(model, alias, vendor, rows):
    """The ``INSERT`` of ``rows`` rows of ``model`` returning their keys (``vendor`` is
    part of the cache key: one statement per kind of database)."""
    ops = connections[alias].ops
    columns = ", ".join(ops.quote_name(f.column) for f in _fields(model))
    row = "(" + ", ".join(["%s"] * len(_fields(model))) + ")"
    return (
        f"INSERT INTO {ops.quote_name(model._meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES {', '.join([row] * rows)} RETURNING {ops.quote_name(model._meta.pk.column)}"
    )
