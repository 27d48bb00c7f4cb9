from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webhost.data.collections.dexie_schema import IndexSpec, parse_schema
from webhost.errors import InvalidInput


def test_auto_increment_primary_key_and_plain_indexes() -> None:
    schema = parse_schema("++id, title, authorId, updatedAt")
    assert schema.primary_key == "id"
    assert schema.auto_increment
    assert [index.key_paths for index in schema.indexes] == [
        ("title",),
        ("authorId",),
        ("updatedAt",),
    ]


def test_every_index_kind_round_trips_to_dexie_syntax() -> None:
    source = "id, &email, *tags, [authorId+updatedAt], &[org+slug], address.city"
    schema = parse_schema(source)
    assert not schema.auto_increment
    assert schema.source == source
    assert schema.indexes[0] == IndexSpec(("email",), unique=True)
    assert schema.indexes[1] == IndexSpec(("tags",), multi_entry=True)
    assert schema.indexes[2].compound
    assert schema.indexes[3].unique
    assert schema.indexes[3].compound


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("", "schema is empty"),
        ("++id,, title", "entry 2 is empty"),
        ("++, title", "primary key must name a field"),
        ("[a+b], title", "primary key"),
        ("++id, title, title", "declared twice"),
        ("++id, id", "declared twice"),
        ("++id, ++title", "only the primary key"),
        ("@id, @title", "only the primary key"),
        ("@, title", "primary key must name a field"),
        ("@@id", "not supported"),
        ("@++id", "not supported"),
        ("++id, [a]", "at least two fields"),
        ("++id, *[a+b]", "cannot be multi-entry"),
        ("++id, [a+b", r"must be written as \[a\+b\]"),
        ("++id, ti tle", "invalid field"),
        ("++id, 'title'", "invalid field"),
        ('++id, "x"; DROP TABLE y', "invalid field"),
        ("++id, other_schema.table.x.y.z.w.v.u.t", "invalid field"),
        ("a.b, title", "top-level"),
    ],
)
def test_malformed_schemas_name_the_problem(source: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        parse_schema(source)


def test_index_names_are_stable_and_fit_postgres_limits() -> None:
    index = parse_schema("++id, [" + "+".join(f"field{n}" for n in range(8)) + "]").indexes[0]
    name = index.sql_name("a" * 48)
    assert len(name) <= 63
    assert name == index.sql_name("a" * 48)
    assert name != index.sql_name("b")


identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True)


def test_a_generated_primary_key_is_written_with_an_at_sign() -> None:
    schema = parse_schema("@id, title")
    assert (schema.primary_key, schema.generated_key, schema.auto_increment) == ("id", True, False)
    assert schema.source == "@id, title"


@given(
    marker=st.sampled_from(["", "++", "@"]),
    primary=identifiers,
    fields=st.lists(identifiers, max_size=6, unique=True),
)
def test_any_valid_schema_parses_and_round_trips(
    marker: str, primary: str, fields: list[str]
) -> None:
    fields = [field for field in fields if field != primary]
    source = ", ".join([marker + primary, *fields])
    schema = parse_schema(source)
    assert parse_schema(schema.source) == schema


@given(st.text(max_size=60))
def test_arbitrary_text_never_crashes_the_parser(source: str) -> None:
    with contextlib.suppress(InvalidInput):
        parse_schema(source)
