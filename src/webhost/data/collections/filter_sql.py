"""Compile a parsed list query (PostgREST-style filters and ordering) to SQL over ``data``.

Values become bound parameters named ``p<n>``; key paths were validated by the query parser.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from webhost.data.collections.query import Condition, Ordering
from webhost.data.collections.tables import RecordTable, json_path
from webhost.errors import InvalidInput


def conditions(
    table: RecordTable, parsed: Sequence[Condition], params: dict[str, Any]
) -> list[str]:
    """One SQL condition per filter, to be joined with AND."""
    return [_condition_sql(table, condition, params, f"p{n}") for n, condition in enumerate(parsed)]


def ordering(table: RecordTable, parsed: Sequence[Ordering]) -> list[str]:
    """ORDER BY terms; the primary key comes last, so pages are stable."""
    terms = [
        _ordering_sql(table, item.key_path)
        + (" DESC" if item.descending else " ASC")
        + _nulls(item.nulls_first)
        for item in parsed
    ]
    terms.append("pk ASC")
    return terms


def _nulls(nulls_first: bool | None) -> str:
    if nulls_first is None:
        return ""
    return " NULLS FIRST" if nulls_first else " NULLS LAST"


def _ordering_sql(table: RecordTable, key_path: str) -> str:
    return "pk" if key_path == table.schema.primary_key else json_path(key_path)


def _condition_sql(
    table: RecordTable, condition: Condition, params: dict[str, Any], name: str
) -> str:
    if condition.key_path == table.schema.primary_key:
        sql = _pk_condition(table, condition, params, name)
    else:
        sql = _field_condition(table, condition, params, name)
    return f"NOT ({sql})" if condition.negated else f"({sql})"


_COMPARISONS = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def _pk_condition(
    table: RecordTable, condition: Condition, params: dict[str, Any], name: str
) -> str:
    operator, value = condition.operator, condition.value
    cast = table.key_cast
    if operator in _COMPARISONS:
        params[name] = table.key_param(table.pk_value(value))
        typed = ""
        if operator not in {"eq", "neq"} and not table.schema.auto_increment:
            typed = f"jsonb_typeof(pk) = '{'string' if isinstance(value, str) else 'number'}' AND "
        return f"{typed}pk {_COMPARISONS[operator]} CAST(:{name} AS {cast})"
    if operator == "in":
        keys = [f"{name}_{n}" for n in range(len(value))]
        params.update(
            {
                key: table.key_param(table.pk_value(item))
                for key, item in zip(keys, value, strict=True)
            }
        )
        return "pk IN (" + ", ".join(f"CAST(:{key} AS {cast})" for key in keys) + ")"
    if operator in {"like", "ilike"}:
        params[name] = value
        return (
            f"(pk #>> '{{}}') {operator.upper()} :{name}"
            if cast == "jsonb"
            else (f"pk::text {operator.upper()} :{name}")
        )
    if operator == "is":
        return "false"
    raise InvalidInput(f"operator {operator} does not apply to the primary key")


def _field_condition(
    table: RecordTable, condition: Condition, params: dict[str, Any], name: str
) -> str:
    operator, value, key_path = condition.operator, condition.value, condition.key_path
    expression = json_path(key_path)
    index = table.schema.index_on(key_path)
    if operator == "eq" and index is not None and index.multi_entry:
        params[name] = json.dumps([value])
        params[name + "_s"] = json.dumps(value)
        return f"{expression} @> CAST(:{name} AS jsonb) OR {expression} = CAST(:{name}_s AS jsonb)"
    if operator in {"eq", "neq"}:
        params[name] = json.dumps(value)
        return f"{expression} {_COMPARISONS[operator]} CAST(:{name} AS jsonb)"
    if operator in {"gt", "gte", "lt", "lte"}:
        params[name] = json.dumps(value)
        kind = "string" if isinstance(value, str) else "number"
        return (
            f"jsonb_typeof({expression}) = '{kind}' AND "
            f"{expression} {_COMPARISONS[operator]} CAST(:{name} AS jsonb)"
        )
    if operator == "in":
        keys = [f"{name}_{n}" for n in range(len(value))]
        params.update({key: json.dumps(item) for key, item in zip(keys, value, strict=True)})
        return f"{expression} IN (" + ", ".join(f"CAST(:{key} AS jsonb)" for key in keys) + ")"
    if operator in {"like", "ilike"}:
        params[name] = value
        return f"{json_path(key_path, as_text=True)} {operator.upper()} :{name}"
    if operator == "is":
        if value is None:
            return f"{expression} IS NULL OR {expression} = 'null'::jsonb"
        return f"{expression} = '{'true' if value else 'false'}'::jsonb"
    if operator == "cs":
        params[name] = json.dumps(value)
        return f"{expression} @> CAST(:{name} AS jsonb)"
    raise InvalidInput(f"unknown operator {operator}")
