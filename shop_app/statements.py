"""Statements on the hot paths, written out and run as PostgreSQL runs them best: their parameters
bound on the server (Django's cursors escape them into the statement's text: a webhook's body or a
chunk of JSON rows, kilobytes each) and each statement prepared at its first use on a connection,
then only executed (config.settings.base turns psycopg's prepared statements on). Elsewhere
(SQLite, the demo) they run through Django's cursor."""

from collections.abc import Sequence
from typing import Any

import psycopg
from django.db import connection


def statement_fetchone(sql: str, parameters: Sequence[Any]) -> tuple[Any, ...] | None:
    """Run one statement and return its first row, if any."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, parameters)
            return cursor.fetchone()
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, parameters, prepare=True)
        return cursor.fetchone()


def statement_executemany(sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run one statement for each of these rows, sent together (psycopg pipelines them)."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
        return
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.executemany(sql, rows)
