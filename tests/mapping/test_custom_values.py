"""Custom property values Omnisend cannot store are not sent, and never silently.

Omnisend stores text, numbers, booleans and lists of text (omnisend-api.md, ``customProperties``).
NaN and infinities used to vanish without a word, and a nested JSON object was sent as its Python
repr; now each is left out with a warning naming the row and the property.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from omnisend_sdk.mapping import ContactMapping, InvalidValueError, normalise_property_value
from omnisend_sdk.sources import open_source

MAPPING = ContactMapping(email="email", custom_properties={"score": "score", "tier": "tier"})


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (float("nan"), "invalid_number"),
        (float("inf"), "invalid_number"),
        (float("-inf"), "invalid_number"),
        (Decimal("NaN"), "invalid_number"),
        (Decimal("-Infinity"), "invalid_number"),
        ({"level": 2}, "nested_value"),
        ({}, "nested_value"),
        (["gold", {"since": 2020}], "nested_value"),
        (["gold", ["silver"]], "nested_value"),
        (("gold", float("nan")), "invalid_number"),
    ],
)
def test_a_value_omnisend_cannot_store_is_left_out_with_a_warning(value: object, code: str) -> None:
    mapped = MAPPING.preview(
        {"email": "ann@example.com", "score": value, "tier": "gold"}, row_number=9
    )
    assert mapped.ok  # the contact still goes, with the properties that can be stored
    assert [(i.row, i.field, i.severity, i.code) for i in mapped.issues] == [
        (9, "custom_properties.score", "warning", code)
    ]
    assert "not sent" in mapped.issues[0].message
    body = mapped.to_json()
    assert body is not None
    assert body["customProperties"] == {"tier": "gold"}


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), {"a": 1}, [{"a": 1}], [[1]], Decimal("Infinity")]
)
def test_the_rule_alone_raises(value: object) -> None:
    with pytest.raises(InvalidValueError) as caught:
        normalise_property_value(value)
    assert caught.value.code in {"invalid_number", "nested_value"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["a", 1, 2.5, True, None, ""], ("a", "1", "2.5", "true")),  # a list of text: Omnisend's
        ({"b", "a", "c"}, ("a", "b", "c")),  # a set has no order: sorted, the same every run
        (frozenset({"y", "x"}), ("x", "y")),
        (Decimal("1.5"), "1.5"),
        (-0.0, -0.0),
        (1.5, 1.5),
    ],
)
def test_values_that_can_be_stored(value: object, expected: object) -> None:
    assert normalise_property_value(value) == expected


def test_a_json_lines_segment(tmp_path: Path) -> None:
    """Python's JSON reader accepts NaN and Infinity; nested objects are JSON's own."""
    lines = [
        {"email": "a@example.com", "score": 1.5, "tier": {"name": "gold", "level": 2}},
        {"email": "b@example.com", "score": float("nan"), "tier": ["gold", "vip"]},
        {"email": "c@example.com", "score": float("-inf"), "tier": [{"name": "gold"}]},
    ]
    path = tmp_path / "segment.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    assert "NaN" in path.read_text(encoding="utf-8")

    mapped = list(MAPPING.map_rows(open_source(path)))

    properties: list[dict[str, Any]] = [
        (row.to_json() or {}).get("customProperties", {}) for row in mapped
    ]
    assert properties == [{"score": 1.5}, {"tier": ["gold", "vip"]}, {}]
    assert [(i.row, i.field, i.code) for row in mapped for i in row.issues] == [
        (1, "custom_properties.tier", "nested_value"),
        (2, "custom_properties.score", "invalid_number"),
        (3, "custom_properties.score", "invalid_number"),
        (3, "custom_properties.tier", "nested_value"),
    ]
    assert all(row.ok for row in mapped)
    encoded = json.dumps([row.to_json() for row in mapped])
    assert "{'" not in encoded  # no Python repr
    assert "NaN" not in encoded
    assert "Infinity" not in encoded
