"""README's configuration table is the settings reference: it must match ``Settings``."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices, TypeAdapter
from pydantic.fields import FieldInfo

from webhost.config import Settings

README = Path(__file__).parents[1] / "README.md"
TABLE_HEADER = "| variable | default | meaning |"
LITERAL = re.compile(r"`([^`]+)`")


def documented_rows() -> dict[str, tuple[str, str]]:
    """README's configuration table: variable -> (default cell, meaning cell)."""
    lines = README.read_text().splitlines()
    start = lines.index(TABLE_HEADER)
    rows: dict[str, tuple[str, str]] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        variable, default, meaning = (cell.strip() for cell in line.strip("|").split("|", 2))
        name = LITERAL.fullmatch(variable)
        assert name is not None, f"the variable cell {variable!r} is not one `NAME`"
        assert name.group(1) not in rows, f"{name.group(1)} is documented twice"
        rows[name.group(1)] = (default, meaning)
    return rows


def environment_names(name: str, field: FieldInfo) -> set[str]:
    """The variables a setting is read from: its validation aliases, else WEBHOST_<NAME>."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return {str(choice) for choice in alias.choices}
    if isinstance(alias, str):
        return {alias}
    return {f"{Settings.model_config.get('env_prefix', '')}{name}".upper()}


def test_every_setting_is_in_the_readme_table() -> None:
    rows = documented_rows()
    missing = [
        name
        for name, field in Settings.model_fields.items()
        if not environment_names(name, field) & rows.keys()
    ]
    assert missing == [], f"settings missing from README's configuration table: {missing}"


def test_every_readme_row_is_a_setting() -> None:
    known = set().union(
        *(environment_names(name, field) for name, field in Settings.model_fields.items())
    )
    stale = sorted(set(documented_rows()) - known)
    assert stale == [], f"README documents variables that are not settings: {stale}"


def test_documented_defaults_are_the_real_ones() -> None:
    rows = documented_rows()
    for name, field in Settings.model_fields.items():
        documented_as = environment_names(name, field) & rows.keys()
        if field.default is None or not documented_as:
            continue  # None: derived at run time (URLs, embedded database), described in words
        variable = documented_as.pop()
        default, _ = rows[variable]
        literal = LITERAL.fullmatch(default)
        assert literal is not None, f"{variable}: document the default {field.default!r}"
        documented = TypeAdapter(field.annotation).validate_python(literal.group(1))
        assert documented == field.default, f"{variable}: README says {default}"


def test_every_setting_and_row_says_what_it_means() -> None:
    undescribed = [name for name, field in Settings.model_fields.items() if not field.description]
    assert undescribed == []
    assert all(meaning for _, meaning in documented_rows().values())
