from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.support.bad_input import any_case, json_media_types
from webhost.http.json_body import is_json_media_type


@given(json_media_types())
def test_json_media_types_are_recognised_in_any_letter_case(content_type: str) -> None:
    assert is_json_media_type(content_type)


@given(
    st.sampled_from(
        ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "json", ""]
    ).flatmap(any_case)
)
def test_other_media_types_are_not_json(content_type: str) -> None:
    assert not is_json_media_type(content_type)
