"""The inbox's SQL, in one place: bulk inserts that fan-outs need and the ORM does not do fast enough."""

from collections.abc import Sequence

from django.db import connection


def insert_rows(model, columns: Sequence[str], rows: list[tuple], suffix: str = "") -> list[tuple]:
    """INSERT the rows in one statement (in batches off PostgreSQL); return what ``suffix`` RETURNs.

    Fan-outs write thousands of rows per transaction, where building model instances for bulk_create
    would cost more than PostgreSQL's whole insert.
    """
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        batches = [_unnest_source(model, columns, rows)]
    else:
        row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
        batches = [
            (f"VALUES {', '.join([row_sql] * len(batch))}", [value for row in batch for value in row])
            for batch in (rows[start : start + 500] for start in range(0, len(rows), 500))
        ]
    returned = []
    with connection.cursor() as cursor:
        for source, params in batches:
            cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) {source} {suffix}", params)
            if "RETURNING" in suffix:
                returned += cursor.fetchall()
    return returned


def _unnest_source(model, columns: Sequence[str], rows: list[tuple]) -> tuple[str, list]:
    """The rows as one array per varying column and one value per constant one (most of a fan-out's).

    VALUES would take a placeholder per column and row, and the driver's parsing of thousands of them
    costs more than PostgreSQL's insert; this takes one parameter per column for any number of rows.
    """
    fields = {field.column: field for field in model._meta.concrete_fields}
    selected, constants, arrays, unnested = [], [], [], []
    for index, column in enumerate(columns):
        values = [row[index] for row in rows]
        db_type = fields[column].db_type(connection)
        # The first column (the recipient) always varies in the SQL, so unnest() has an array to expand.
        if index == 0 or any(value != values[0] for value in values):
            selected.append(f"u.{column}")
            unnested.append(column)
            arrays.append((f"%s::{db_type}[]", values))
        else:
            selected.append(f"%s::{db_type}")
            constants.append(values[0])
    sql = f"SELECT {', '.join(selected)} FROM unnest({', '.join(sql for sql, _ in arrays)}) AS u({', '.join(unnested)})"
    return sql, [*constants, *(values for _, values in arrays)]


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
