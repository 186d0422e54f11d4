"""Authentication, scopes and the Omnisend-Version header."""

from __future__ import annotations

import pytest

from omnisend_sdk.testing import EMULATOR_API_KEY, READ_ONLY, WRITE_ONLY, ScopedKey
from tests.testing.conftest import Api, Connect
from tests.testing.helpers import assert_problem, contact

LIST = ("GET", "/contacts")
UPSERT = ("POST", "/contacts")


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Authorization": None}, id="missing"),
        pytest.param({"Authorization": "Omnisend-API-Key wrong"}, id="unknown-key"),
        pytest.param({"Authorization": f"Bearer {EMULATOR_API_KEY}"}, id="wrong-scheme"),
        pytest.param({"Authorization": "Omnisend-API-Key"}, id="no-key"),
        pytest.param({"Authorization": None, "X-API-KEY": EMULATOR_API_KEY}, id="v3-header"),
    ],
)
def test_bad_credentials_are_401(api: Api, headers: dict[str, str | None]) -> None:
    request = api.http.build_request("GET", "/contacts")
    for name, value in headers.items():
        if value is None:
            del request.headers[name]
        else:
            request.headers[name] = value
    assert_problem(api.http.send(request), 401)


def test_v3_header_gets_a_hint(api: Api) -> None:
    request = api.http.build_request("GET", "/contacts", headers={"X-API-KEY": EMULATOR_API_KEY})
    del request.headers["Authorization"]
    assert "v3" in assert_problem(api.http.send(request), 401)["detail"]


@pytest.mark.parametrize(
    ("scopes", "method", "path", "status"),
    [
        (READ_ONLY, "GET", "/contacts", 200),
        (READ_ONLY, "POST", "/contacts", 403),
        (READ_ONLY, "POST", "/batches", 403),
        (READ_ONLY, "POST", "/contacts/tags", 403),
        (READ_ONLY, "GET", "/batches?endpoint=contacts", 200),
        (WRITE_ONLY, "GET", "/contacts", 403),
        (WRITE_ONLY, "GET", "/batches?endpoint=contacts", 403),
        (WRITE_ONLY, "POST", "/contacts", 201),
    ],
)
def test_scopes(
    connect: Connect,
    scopes: frozenset[str],
    method: str,
    path: str,
    status: int,
) -> None:
    api = connect(api_keys=[ScopedKey("limited", scopes)])
    body = contact("a@example.com") if method == "POST" and path == "/contacts" else None
    response = api.http.request(
        method,
        path,
        json=body,
        headers={"Authorization": "Omnisend-API-Key limited"},
    )
    assert response.status_code == status, response.text
    if status == 403:
        assert_problem(response, 403)


def test_plain_string_keys_have_full_access(connect: Connect) -> None:
    api = connect(api_keys=["k1", "k2"])
    for key in ("k1", "k2"):
        response = api.http.get("/contacts", headers={"Authorization": f"Omnisend-API-Key {key}"})
        assert response.status_code == 200


def test_api_key_repr_hides_the_key() -> None:
    assert "secret-text" not in repr(ScopedKey("secret-text"))


@pytest.mark.parametrize(
    ("version", "status", "slug"),
    [
        (None, 400, "missing-version"),
        ("2099-01-01", 400, "unsupported-version"),
        ("2024-06-01", 410, "version-retired"),
        ("2026-03-15", 200, None),
    ],
)
def test_version_header(connect: Connect, version: str | None, status: int, slug: str) -> None:
    api = connect(retired_versions=["2024-06-01"])
    request = api.http.build_request("GET", "/contacts")
    if version is None:
        del request.headers["Omnisend-Version"]
    else:
        request.headers["Omnisend-Version"] = version
    response = api.http.send(request)
    assert response.status_code == status
    if slug is not None:
        assert assert_problem(response, status)["type"].endswith(slug)


def test_every_problem_has_its_own_trace_id(api: Api) -> None:
    instances = {
        assert_problem(api.http.get("/contacts/missing"), 404)["instance"] for _ in range(3)
    }
    assert len(instances) == 3


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/accounts", 404),
        ("PUT", "/contacts", 405),
        ("DELETE", "/contacts/abc", 405),
        ("GET", "/contacts/tags", 405),
        ("PATCH", "/batches", 405),
        ("GET", "/contacts/abc/items", 404),
    ],
)
def test_unknown_routes_and_methods(api: Api, method: str, path: str, status: int) -> None:
    assert_problem(api.http.request(method, path), status)


@pytest.mark.parametrize("prefix", ["", "/api", "/some/proxy/prefix"])
def test_any_base_path_prefix_works(api: Api, prefix: str) -> None:
    url = api.http.base_url.copy_with(path=prefix + "/contacts")
    assert api.http.get(url).status_code == 200
