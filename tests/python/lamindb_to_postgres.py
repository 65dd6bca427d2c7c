"""Copies a LaminDB SQLite database into a PostgreSQL database, table by table, with the
column types LaminDB's own PostgreSQL instances have (booleans, timestamptz, bigint, text):
prints the SQL for psql.

    python3 lamindb_to_postgres.py lamin.db | psql postgresql://…/db

For the importer's tests of PostgreSQL sources (LaminDB itself needs a hub login to create
one); stdlib only."""

import re
import sqlite3
import sys


def pg_type(declared: str) -> str:
    t = (declared or "").lower()
    if t.startswith("bool"):
        return "boolean"
    if t.startswith("datetime"):
        return "timestamptz"
    if t == "date":
        return "date"
    if t in ("integer", "bigint", "smallint", "int"):
        return "bigint"
    if t.startswith(("real", "double", "float")):
        return "double precision"
    if t.startswith("decimal"):
        return "numeric"
    return "text"


def literal(value, kind: str) -> str:
    if value is None:
        return "NULL"
    if kind == "boolean":
        return "true" if value else "false"
    if kind in ("bigint", "double precision", "numeric"):
        return str(value)
    text = str(value)
    if kind == "timestamptz" and not re.search(r"[+-]\d\d(:?\d\d)?$", text):
        text += "+00"
    return "'" + text.replace("'", "''") + "'"


def main() -> None:
    db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    out = sys.stdout
    out.write("BEGIN;\n")
    tables = [
        r[0]
        for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    for table in tables:
        cols = [(r[1], pg_type(r[2])) for r in db.execute(f'PRAGMA table_info("{table}")')]
        defs = ", ".join(f'"{c}" {t}' for c, t in cols)
        out.write(f'CREATE TABLE "{table}" ({defs});\n')
        names = ", ".join(f'"{c}"' for c, _ in cols)
        for row in db.execute(f'SELECT {names} FROM "{table}"'):
            values = ", ".join(literal(v, t) for v, (_, t) in zip(row, cols))
            out.write(f'INSERT INTO "{table}" ({names}) VALUES ({values});\n')
    out.write("COMMIT;\n")


if __name__ == "__main__":
    main()
