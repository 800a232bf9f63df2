"""The tool server and the OpenAPI adapter over real HTTP on 127.0.0.1."""
from __future__ import annotations

import datetime as dt
import json
import threading
import time

import pytest
import uvicorn
from fastapi import FastAPI, Header

from ste.core.config import OpenAPISource, ToolsSection
from ste.core.errors import ConfigError
from ste.core.tools import Registry, Tool, build_registry
from ste.core.tools.builtin import airports, countries, currency, holidays_tools
from ste.core.tools.openapi import OpenAPIToolSource
from ste.core.tools.server import create_app
from tests.helpers import free_port

TODAY = dt.date(2026, 1, 15)


def _serve(app: FastAPI):
    """Start uvicorn in a thread on a free port; yield the base URL; stop it."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


@pytest.fixture(scope="module")
def local() -> Registry:
    tools = [t for m in (holidays_tools, countries, airports, currency) for t in m.tools(TODAY)]
    return Registry(tools, timeout_s=30)


@pytest.fixture(scope="module")
def base_url(local):
    yield from _serve(create_app(local))


@pytest.fixture(scope="module")
def remote(base_url) -> Registry:
    source = OpenAPISource(spec=f"{base_url}/openapi.json", category="http")
    return Registry(OpenAPIToolSource(source).tools(), timeout_s=30)


def test_health(base_url):
    import httpx

    assert httpx.get(f"{base_url}/health").json() == {"status": "ok", "tools": 19}


def test_adapter_rebuilds_every_tool(local, remote):
    assert remote.names() == local.names()
    for name in local.names():
        mine, theirs = local.get(name), remote.get(name)
        assert theirs.parameters["properties"] == mine.parameters["properties"]
        assert set(theirs.parameters["required"]) == set(mine.parameters["required"])
        assert theirs.description == mine.description and theirs.examples == mine.examples


@pytest.mark.parametrize("name,arguments", [
    ("get_public_holidays", {"country": "Japan", "year": 2026}),
    ("get_next_public_holiday", {"country": "US", "subdivision": "CA"}),
    ("get_country_info", {"country": "Peru"}),
    ("find_country_by_calling_code", {"calling_code": "+44"}),
    ("get_airport_by_code", {"code": "NRT"}),
    ("convert_currency", {"amount": 45.5, "from_currency": "GBP", "to_currency": "EUR"}),
])
def test_remote_results_equal_local(local, remote, name, arguments):
    here, there = local.call(name, arguments), remote.call(name, arguments)
    assert here.ok and there.ok, there.observation
    assert there.data == here.data and there.observation == here.observation


def test_remote_tool_error_keeps_its_message(remote):
    result = remote.call("get_country_capital", {"country": "Atlantis"})
    assert result.status == "error"
    assert "unknown country 'Atlantis'; use a country name or ISO code" in result.observation
    assert remote.call("get_country_capital", {"nation": "France"}).status == "invalid_args"  # checked client-side


def test_server_status_codes(base_url):
    import httpx

    assert httpx.post(f"{base_url}/tools/get_country_capital", json={"country": "Chile"}).status_code == 200
    bad = httpx.post(f"{base_url}/tools/get_country_capital", json={"nation": "Chile"})
    assert bad.status_code == 422 and bad.json()["status"] == "invalid_args"
    assert httpx.post(f"{base_url}/tools/get_country_capital", json={"country": "Atlantis"}).status_code == 500


def test_allow_list_refuses_other_hosts(base_url):
    spec = f"{base_url}/openapi.json"
    with pytest.raises(ConfigError, match="not in allowed_hosts"):
        OpenAPIToolSource(OpenAPISource(spec=spec, allowed_hosts=["localhost"]))
    # the spec is allowed, the override base_url is not: every call is refused before any request
    source = OpenAPIToolSource(OpenAPISource(spec=spec, base_url="http://example.com"))
    result = Registry(source.tools()).call("get_country_capital", {"country": "Chile"})
    assert result.status == "error" and "'example.com' is not in allowed_hosts" in result.observation


@pytest.fixture(scope="module")
def secured_url():
    """A third-party-style service (not our envelope) that needs an API key header."""
    app = FastAPI()

    @app.get("/items/{item_id}", operation_id="getItem", summary="Get an item")
    def get_item(item_id: int, q: str | None = None, x_api_key: str | None = Header(None)) -> dict:
        if x_api_key != "s3cret":
            from fastapi import HTTPException

            raise HTTPException(401, "bad key")
        return {"item_id": item_id, "q": q}

    yield from _serve(app)


def test_auth_header_from_env_and_never_shown(secured_url, monkeypatch, tmp_path):
    source = OpenAPISource(spec=f"{secured_url}/openapi.json", auth_header="X-API-Key", auth_env="TEST_STE_KEY")
    monkeypatch.setenv("TEST_STE_KEY", "s3cret")
    reg = Registry(OpenAPIToolSource(source).tools())
    assert reg.names() == ["get_item"]
    assert reg.get("get_item").parameters["required"] == ["item_id"]
    ok = reg.call("get_item", {"item_id": 7, "q": "red"})
    assert ok.ok and ok.data == {"item_id": 7, "q": "red"}
    monkeypatch.setenv("TEST_STE_KEY", "wrong")
    denied = reg.call("get_item", {"item_id": 7})
    assert denied.status == "error" and "HTTP 401" in denied.observation and "wrong" not in denied.observation
    monkeypatch.delenv("TEST_STE_KEY")
    missing = reg.call("get_item", {"item_id": 7})
    assert missing.status == "error" and "TEST_STE_KEY" in missing.observation


def test_build_registry_joins_builtin_and_openapi(secured_url, monkeypatch):
    monkeypatch.setenv("TEST_STE_KEY", "s3cret")
    section = ToolsSection(timeout_s=7, max_output_chars=300, openapi=[OpenAPISource(
        spec=f"{secured_url}/openapi.json", auth_header="X-API-Key", auth_env="TEST_STE_KEY")])
    reg = build_registry(section)
    assert "get_item" in reg and "get_airport_by_code" in reg and reg.timeout_s == 7
    assert reg.call("get_item", {"item_id": 3}).data == {"item_id": 3, "q": None}


def test_timeout_over_http():
    slow = Tool("slow", "Sleeps.", "test", {"type": "object", "properties": {}}, lambda: time.sleep(3) or "late")
    for url in _serve(create_app(Registry([slow], timeout_s=10))):
        source = OpenAPIToolSource(OpenAPISource(spec=f"{url}/openapi.json", timeout_s=0.3))
        start = time.monotonic()
        result = Registry(source.tools(), timeout_s=10).call("slow", {})
        assert result.status == "error" and "timed out" in result.observation.lower()
        assert time.monotonic() - start < 2


@pytest.mark.parametrize("content,problem", [
    ("{not json", "could not be read"),
    (json.dumps({"swagger": "2.0", "paths": {}}), "not an OpenAPI 3 document"),
    (json.dumps({"openapi": "3.0.0", "servers": [{"url": "http://127.0.0.1:1"}], "paths": {}}), "no operations"),
    (json.dumps({"openapi": "3.0.0", "paths": {"/a": {"get": {}}}}), "set base_url"),
    (json.dumps({"openapi": "3.0.0", "servers": [{"url": "http://127.0.0.1:1"}], "paths": {"/a": {"get": {
        "parameters": [{"$ref": "#/components/parameters/missing"}]}}}}), "points nowhere"),
])
def test_bad_spec_is_a_config_error(tmp_path, content, problem):
    path = tmp_path / "spec.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=problem) as err:
        OpenAPIToolSource(OpenAPISource(spec=str(path))).tools()
    assert str(path) in str(err.value)


def test_missing_spec_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="could not be read"):
        OpenAPIToolSource(OpenAPISource(spec=str(tmp_path / "nope.yaml")))
