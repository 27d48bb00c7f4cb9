"""Generated bad input on every fleet read gets a clear 4xx (or an answer), never a 500."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st

from tests.support.bad_input import (
    OVER_HTTP,
    assert_clear_error,
    json_values,
    nul_strings,
    out_of_range_numbers,
    unstorable_json,
)

JSON = {"content-type": "application/json"}
QUERIES = {
    "/v1/fleet/latest": ["limit", "offset"],
    "/v1/fleet/vehicles/v/track": ["from", "to", "limit", "points"],
    "/v1/fleet/vehicles/v/reports/trips": ["from", "to", "min_stop_seconds", "min_trip_meters"],
    "/v1/fleet/vehicles/v/reports/summary": ["speed_threshold_kmh", "max_gap_seconds"],
    "/v1/fleet/near": ["lat", "lon", "radius_m", "limit"],
    "/v1/fleet/nearest": ["lat", "lon", "n"],
    "/v1/fleet/positions/box": ["min_lat", "min_lon", "max_lat", "max_lon", "from", "limit"],
    "/v1/fleet/geofences": ["limit", "offset"],
    "/v1/fleet/geofences/1/positions": ["from", "to", "limit"],
}
VALID = {
    "lat": "1",
    "lon": "1",
    "radius_m": "1000",
    "min_lat": "0",
    "min_lon": "0",
    "max_lat": "1",
    "max_lon": "1",
}
numbers_as_text = st.one_of(
    st.sampled_from(["nan", "NaN", "inf", "-Infinity", "1e400", "-0", "0x10", "1_000", " 1"]),
    out_of_range_numbers(),
    st.integers().map(str),
    st.floats().map(repr),
)
texts = st.one_of(st.text(max_size=40), nul_strings(), numbers_as_text)


def _ok_or_clear(response: httpx.Response) -> None:
    if response.status_code >= 300:
        assert_clear_error(response)


def test_generated_query_parameters_never_break_a_read(client: httpx.Client) -> None:
    @OVER_HTTP
    @given(
        path=st.sampled_from(sorted(QUERIES)),
        data=st.data(),
    )
    def send(path: str, data: st.DataObject) -> None:
        names = QUERIES[path]
        chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
        params = {**VALID, **{name: data.draw(texts) for name in chosen}}
        _ok_or_clear(client.get(path, params=params))

    send()


def test_generated_polygon_bodies_never_break_a_query(client: httpx.Client) -> None:
    vertex = st.one_of(
        st.tuples(st.floats(), st.floats()).map(list),
        json_values(max_leaves=4),
    )
    bodies = st.one_of(
        st.fixed_dictionaries({"polygon": st.lists(vertex, max_size=8)}),
        st.fixed_dictionaries(
            {"polygon": st.just([[0, 0], [1, 0], [1, 1]])},
            optional={"from": json_values(2), "to": json_values(2), "limit": json_values(2)},
        ),
        json_values(max_leaves=6),
        unstorable_json(),
    )

    @OVER_HTTP
    @given(body=bodies)
    def send(body: Any) -> None:
        raw = json.dumps(body).encode()
        _ok_or_clear(client.post("/v1/fleet/positions/within", content=raw, headers=JSON))

    send()


def test_generated_geofences_never_break_a_write(client: httpx.Client) -> None:
    fields = {
        "name": st.one_of(st.text(max_size=210), nul_strings(), json_values(2)),
        "polygon": st.one_of(
            st.lists(st.tuples(st.floats(-200, 200), st.floats(-100, 100)).map(list), max_size=6),
            json_values(3),
        ),
        "center": st.one_of(st.tuples(st.floats(), st.floats()).map(list), json_values(2)),
        "radius_m": st.one_of(st.floats(), json_values(1)),
        "metadata": st.one_of(json_values(6), unstorable_json()),
    }
    bodies = st.fixed_dictionaries({}, optional=fields)

    @OVER_HTTP
    @given(body=bodies, method=st.sampled_from(["POST", "PATCH"]))
    def send(body: dict[str, Any], method: str) -> None:
        path = "/v1/fleet/geofences" + ("/1" if method == "PATCH" else "")
        response = client.request(method, path, content=json.dumps(body).encode(), headers=JSON)
        _ok_or_clear(response)
        if response.status_code == 201:
            client.delete(f"/v1/fleet/geofences/{response.json()['id']}")

    seed = client.post(
        "/v1/fleet/geofences", json={"name": "seed", "center": [0, 0], "radius_m": 1}
    )
    assert seed.status_code == 201, seed.text
    send()
