"""The inbox's SQL, in one place: bulk inserts that fan-outs need and the ORM does not do fast enough."""

from collections.abc import Sequence

from django.db import connection


def insert_rows(model, columns: Sequence[str], rows: list[tuple], suffix: str = "") -> list[tuple]:
    """INSERT the rows in one statement (in batches off PostgreSQL); return what ``suffix`` RETURNs.

    Fan-outs write thousands of rows per transaction, where building model instances for bulk_create
    would cost more than PostgreSQL's whole insert. A column with one value in every row goes as that value.
    """
    if not rows:
        return []
    values = {}
    for index, (column, column_values) in enumerate(zip(columns, zip(*rows, strict=True), strict=True)):
        first = column_values[0]
        # The first column always goes as a list, so there is something to unnest.
        constant = index and column_values.count(first) == len(column_values) and type(first) is not list
        values[column] = first if constant else list(column_values)
    return insert_columns(model, values, suffix)


def insert_columns(model, columns: dict[str, object], suffix: str = "") -> list[tuple]:
    """INSERT rows given by column: a list holds a value per row, anything else is one value for every row
    (most of a fan-out's columns). At least one column must be a list. Returns what ``suffix`` RETURNs."""
    table = model._meta.db_table
    names = ", ".join(columns)
    if connection.vendor == "postgresql":
        batches = [_unnest_source(model, columns)]
    else:
        size = max(len(values) for values in columns.values() if isinstance(values, list))
        per_row = [values if isinstance(values, list) else [values] * size for values in columns.values()]
        rows = list(zip(*per_row, strict=True))
        row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
        batches = [
            (f"VALUES {', '.join([row_sql] * len(batch))}", [value for row in batch for value in row])
            for batch in (rows[start : start + 500] for start in range(0, len(rows), 500))
        ]
    returned = []
    with connection.cursor() as cursor:
        for source, params in batches:
            cursor.execute(f"INSERT INTO {table} ({names}) {source} {suffix}", params)
            if "RETURNING" in suffix:
                returned += cursor.fetchall()
    return returned


def _unnest_source(model, columns: dict[str, object]) -> tuple[str, list]:
    """One array per varying column and one value per constant one.

    VALUES would take a placeholder per column and row, and the driver's parsing of thousands of them
    costs more than PostgreSQL's insert; this takes one parameter per column for any number of rows.
    """
    fields = {field.column: field for field in model._meta.concrete_fields}
    selected, constants, arrays, unnested = [], [], [], []
    for column, values in columns.items():
        db_type = fields[column].db_type(connection)
        if isinstance(values, list):
            selected.append(f"u.{column}")
            unnested.append(column)
            arrays.append((f"%s::{db_type}[]", integer_array_param(values)))
        else:
            selected.append(f"%s::{db_type}")
            constants.append(values)
    sql = f"SELECT {', '.join(selected)} FROM unnest({', '.join(sql for sql, _ in arrays)}) AS u({', '.join(unnested)})"
    return sql, [*constants, *(values for _, values in arrays)]


def integer_array_param(values):
    """An array of integers as its text literal, which the driver sends as a string: its adapting a list
    element by element cost more than the rest of a chunk's Python. Any other list is adapted as a list."""
    values = list(values)
    if set(map(type, values)) == {int}:
        return "{" + ",".join(map(str, values)) + "}"
    return values


def commit_without_waiting_for_flush() -> None:
    """Let this fan-out transaction commit before its WAL reaches disk (PostgreSQL; call inside it).

    Safe because the outbox can always redo it: a crash loses the newest commits whole and in order,
    so the rows vanish together with the event's done status or chunk claim, and the sweeper delivers
    again, still exactly once. Not for the user action and its event row, nor for a transaction that
    sends tasks on commit which rely on what it wrote.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
