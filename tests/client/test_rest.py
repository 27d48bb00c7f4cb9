from __future__ import annotations

import asyncio

import pytest

from tests.client.conftest import Connect
from tests.support.database import ProvisionedTenant
from webhost.client import ApiError, ServerUnreachable, WebHostClient


def test_collections_and_records_round_trip(connect: Connect) -> None:
    async def scenario() -> None:
        async with connect(sync=False) as client:
            defined = await client.rest.define_collection("books", "id, author, &isbn, *tags")
            assert defined.primary_key == "id"
            assert not defined.auto_increment
            assert defined.indexes == ("author", "&isbn", "*tags")
            assert (await client.rest.get_collection("books")) == defined
            assert [c.name for c in await client.rest.list_collections()] == ["books"]

            books = client.rest.records("books")
            created = await books.create({"id": "b1", "author": "Le Guin", "isbn": "1"})
            assert created == {"id": "b1", "author": "Le Guin", "isbn": "1"}
            await books.put("b2", {"author": "Lem", "isbn": "2", "tags": ["sf"]})
            await books.put(7, {"author": "Calvino", "isbn": "3"})
            assert await books.get("b2") == {
                "id": "b2",
                "author": "Lem",
                "isbn": "2",
                "tags": ["sf"],
            }
            assert (await books.get(7))["author"] == "Calvino"

            patched = await books.patch("b1", {"tags": ["classic"], "isbn": None})
            assert patched == {"id": "b1", "author": "Le Guin", "tags": ["classic"]}

            by_author = await books.list("author=in.(Lem,Calvino)", order="author")
            assert [book["author"] for book in by_author] == ["Calvino", "Lem"]
            tagged = await books.list({"tags": 'cs.["sf"]'})
            assert [book["id"] for book in tagged] == ["b2"]
            paged = await books.list(
                [("author", "neq.nobody")], order="author.desc", limit=1, offset=1
            )
            assert [book["author"] for book in paged] == ["Le Guin"]

            await books.delete("b1")
            with pytest.raises(ApiError) as missing:
                await books.get("b1")
            assert missing.value.status == 404
            assert missing.value.code == "not_found"
            assert missing.value.body["error"]["code"] == "not_found"

            await client.rest.drop_collection("books")
            assert await client.rest.list_collections() == []

    asyncio.run(scenario())


def test_refusals_carry_the_platform_error_body(connect: Connect) -> None:
    async def scenario() -> None:
        async with connect(sync=False) as client:
            await client.rest.define_collection("notes", "id, &slug")
            notes = client.rest.records("notes")
            await notes.create({"id": "n1", "slug": "a"})
            with pytest.raises(ApiError) as clash:
                await notes.create({"id": "n2", "slug": "a"})
            assert clash.value.status == 409
            assert "unique index '&slug'" in clash.value.message
            with pytest.raises(ApiError) as bad_filter:
                await notes.list("slug=nope.1")
            assert bad_filter.value.status == 400 or bad_filter.value.status == 422
            assert bad_filter.value.code in ("bad_request", "invalid_input")
            with pytest.raises(ApiError) as bad_schema:
                await client.rest.define_collection("bad", "")
            assert bad_schema.value.status == 422
            assert str(bad_schema.value).startswith("422 invalid_input: ")

    asyncio.run(scenario())


def test_a_wrong_key_is_refused_and_never_shown(
    connect: Connect, tenant: ProvisionedTenant
) -> None:
    wrong_key = tenant.api_key[:-4] + "zzzz"

    async def scenario() -> None:
        client = connect(api_key=wrong_key, sync=False)
        assert wrong_key not in repr(client)
        assert tenant.api_key not in repr(client)
        async with client:
            with pytest.raises(ApiError) as refused:
                await client.rest.list_collections()
        assert refused.value.status == 401
        assert wrong_key not in str(refused.value)
        assert wrong_key not in repr(refused.value)

    asyncio.run(scenario())


def test_no_answer_is_server_unreachable(unreachable_url: str, tenant: ProvisionedTenant) -> None:
    async def scenario() -> None:
        async with WebHostClient(
            api_url=unreachable_url, api_key=tenant.api_key, sync=False
        ) as client:
            with pytest.raises(ServerUnreachable) as unreachable:
                await client.rest.get_collection("anything")
        assert tenant.api_key not in str(unreachable.value)

    asyncio.run(scenario())
