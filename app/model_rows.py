"""New rows of a model as plain dictionaries, as the unit of work would insert new objects: a
new id, sealed values sealed under the row's data key, and the columns' defaults for the rest.
The batch writer (app/cases/bulk.py) builds every row of a batch with them."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Integer, inspect

from app.crypto.datakeys import RowKey, new_id, sealed_fields


class Layout:
    """What building a row of one model needs: its table name, its columns (column key,
    attribute name, default: a value, or a callable), its sealed fields, whether it takes a
    UUID id, and every name a row may set."""

    def __init__(self, model: type):
        mapper = inspect(model)
        self.table = model.__tablename__
        self.columns: list[tuple[str, str, object, bool]] = []
        self.new_id = False
        for attr in mapper.column_attrs:
            column = attr.columns[0]
            if column.primary_key and isinstance(column.type, Integer):
                continue  # the database numbers it
            if column.primary_key:
                self.new_id = True
            default = column.default
            if default is None:
                self.columns.append((column.key, attr.key, None, False))
            elif default.is_callable:
                self.columns.append((column.key, attr.key, default.arg, True))
            else:
                self.columns.append((column.key, attr.key, default.arg, False))
        self.sealed = tuple(sealed_fields(model))
        self.names = frozenset(a for _, a, _, _ in self.columns) | frozenset(self.sealed)
        self.renamed = any(key != attr for key, attr, _, _ in self.columns)


@cache
def layout_of(model: type) -> Layout:
    """The model's layout, made once."""
    return Layout(model)


def new_row(model: type, values: dict, key: RowKey | None) -> dict:
    """A new row of `model` by attribute name: the values given, sealed ones sealed under
    `key`, a new id, and the columns' defaults for the rest (as the unit of work would insert
    a new object)."""
    layout = layout_of(model)
    unknown = values.keys() - layout.names
    if unknown:
        raise TypeError(f"{model.__name__} has no {', '.join(sorted(unknown))}")
    row = {}
    if layout.new_id:
        row["id"] = values.pop("id", None) or new_id()
    for name in layout.sealed:
        value = values.pop(name, None)
        if value is not None and value != "":
            if key is None:
                raise TypeError(f"{model.__name__}.{name} needs a data key to seal it")
            row[f"{name}_sealed"] = key.seal(layout.table, name, row["id"], value)
    for _, attr, default, call in layout.columns:
        if attr in row:
            continue
        if attr in values:
            row[attr] = values[attr]
        else:
            row[attr] = default(None) if call else default
    return row


def columns_of(model: type, row: dict) -> dict:
    """A row by attribute name, as the insert takes it: by column key (they differ where a
    column is named apart from its attribute, e.g. perpetrator.relationship)."""
    layout = layout_of(model)
    if not layout.renamed:
        return row  # a row holds every column, by the name the insert takes
    return {key: row[attr] for key, attr, _, _ in layout.columns}
