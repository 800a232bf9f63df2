"""Tools from any OpenAPI 3 service: each operation becomes a Tool whose func makes the HTTP request.

The auth header's value is read from the environment at each request and never appears in
observations or errors. Every request's host is checked against `allowed_hosts` first, and
redirects are not followed (they could leave the allow-list).
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

import httpx
import yaml

from ste.core.config import OpenAPISource
from ste.core.errors import ConfigError
from ste.core.tools.base import Tool, ToolSource

METHODS = ("get", "post", "put", "patch", "delete")
ENVELOPE_KEYS = {"status", "observation", "data"}  # what ste.core.tools.server wraps results in
MAX_REF_DEPTH = 32


class OpenAPIToolSource(ToolSource):
    """The operations of one OpenAPI 3 document, as tools.

    Args:
        source: the `tools.openapi` entry (spec, base_url, auth, allowed_hosts, timeout, category).
    """

    def __init__(self, source: OpenAPISource):
        self.source = source
        self.spec = _load_spec(source)
        self.base_url = _base_url(source, self.spec)

    def tools(self) -> list[Tool]:
        out = []
        for path, item in self.spec["paths"].items():
            item = self._resolve(item) or {}
            for method in METHODS:
                if method in item:
                    out.append(self._tool(path, method, item))
        if not out:
            raise ConfigError(f"OpenAPI spec {self.source.spec}: no operations under 'paths'")
        return out

    # -------------------------------------------------------------- building
    def _problem(self, text: str) -> ConfigError:
        return ConfigError(f"OpenAPI spec {self.source.spec}: {text}")

    def _resolve(self, node: Any, depth: int = 0) -> Any:
        """`node` with every local `$ref` replaced by its target."""
        if depth > MAX_REF_DEPTH:
            raise self._problem("$ref nesting is too deep (a cycle?)")
        if isinstance(node, list):
            return [self._resolve(n, depth + 1) for n in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise self._problem(f"only local $ref ('#/...') are supported, got {ref!r}")
            target: Any = self.spec
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, dict) or part not in target:
                    raise self._problem(f"$ref {ref!r} points nowhere")
                target = target[part]
            return self._resolve(target, depth + 1)
        return {k: self._resolve(v, depth + 1) for k, v in node.items()}

    def _tool(self, path: str, method: str, item: dict) -> Tool:
        op = item[method]
        if not isinstance(op, dict):
            raise self._problem(f"{method.upper()} {path} is not an operation object")
        name = _tool_name(op.get("operationId") or f"{method}_{path}")
        props: dict[str, Any] = {}
        required: list[str] = []
        where: dict[str, str] = {}  # argument -> path | query | header | body | raw_body
        merged = {(p.get("name"), p.get("in")): p for p in [*item.get("parameters", []), *op.get("parameters", [])]}
        for (pname, loc), param in merged.items():
            if loc not in ("path", "query", "header") or not pname:
                continue
            schema = dict(param.get("schema") or {})
            if param.get("description"):
                schema.setdefault("description", param["description"])
            props[pname], where[pname] = schema, loc
            if param.get("required") or loc == "path":
                required.append(pname)
        body = self._body_schema(op, path, method)
        if body is not None:
            schema, body_required, flat = body
            if flat:
                for key, sub in schema.get("properties", {}).items():
                    if key in props:
                        raise self._problem(f"{method.upper()} {path}: '{key}' is both a parameter and a body field")
                    props[key], where[key] = sub, "body"
                required += [k for k in schema.get("required", []) if k in schema.get("properties", {})]
            else:
                props["body"], where["body"] = schema, "raw_body"
                if body_required:
                    required.append("body")
        parameters = {"type": "object", "properties": props, "required": required}
        if body is not None and body[2] and body[0].get("additionalProperties") is False:
            parameters["additionalProperties"] = False
        summary, description = op.get("summary", ""), op.get("description", "")
        text = description if description.startswith(summary) else " ".join(t for t in (summary, description) if t)
        return Tool(name, text or f"{method.upper()} {path}", self.source.category, parameters,
                    self._caller(method, path, where, body is not None), list(op.get("x-query-examples", []))[:3])

    def _body_schema(self, op: dict, path: str, method: str) -> tuple[dict, bool, bool] | None:
        """(schema, required, flat) of a JSON request body; flat when its fields become arguments."""
        body = op.get("requestBody")
        if not body:
            return None
        content = body.get("content", {})
        media = next((m for m in content if m.split(";")[0].strip().endswith("json")), None)
        if media is None:
            raise self._problem(f"{method.upper()} {path}: only JSON request bodies are supported, got "
                                f"{', '.join(content) or 'none'}")
        schema = content[media].get("schema") or {}
        flat = schema.get("type") == "object" or ("properties" in schema and "type" not in schema)
        return schema, bool(body.get("required")), flat

    # -------------------------------------------------------------- calling
    def _caller(self, method: str, path: str, where: dict[str, str], has_body: bool):
        source, base = self.source, self.base_url

        def call(**arguments: Any) -> Any:
            url = base.rstrip("/") + re.sub(r"\{([^}]+)\}", lambda m: _segment(arguments.get(m.group(1), "")), path)
            host = httpx.URL(url).host
            if host not in source.allowed_hosts:
                raise PermissionError(f"host {host!r} is not in allowed_hosts ({', '.join(source.allowed_hosts)})")
            query = {k: _plain(v) for k, v in arguments.items() if where.get(k) == "query"}
            headers = {k: str(_plain(v)) for k, v in arguments.items() if where.get(k) == "header"}
            headers.update(_auth(source))
            if "raw_body" in where.values():
                payload = arguments.get("body")
            elif has_body:
                payload = {k: v for k, v in arguments.items() if where.get(k) == "body"}
            else:
                payload = None
            response = httpx.request(method.upper(), url, params=query, headers=headers, timeout=source.timeout_s,
                                     follow_redirects=False, **({"json": payload} if payload is not None else {}))
            return _result(response, method, path)

        return call


def _load_spec(source: OpenAPISource) -> dict:
    """The parsed OpenAPI document from a URL (host checked) or a file; ConfigError on any problem."""
    where = source.spec
    try:
        if re.match(r"https?://", where):
            host = httpx.URL(where).host
            if host not in source.allowed_hosts:
                raise ConfigError(f"OpenAPI spec {where}: host {host!r} is not in allowed_hosts "
                                  f"({', '.join(source.allowed_hosts)}); add it there if you trust it")
            response = httpx.get(where, headers=_auth(source), timeout=source.timeout_s)
            response.raise_for_status()
            text = response.text
        else:
            text = Path(where).read_text()
        spec = yaml.safe_load(text)  # JSON is YAML too
    except ConfigError:
        raise
    except (OSError, httpx.HTTPError, yaml.YAMLError, ValueError) as err:
        raise ConfigError(f"OpenAPI spec {where}: could not be read ({type(err).__name__}: {err})") from None
    if not isinstance(spec, dict) or not str(spec.get("openapi", "")).startswith("3."):
        raise ConfigError(f"OpenAPI spec {where}: not an OpenAPI 3 document (no 'openapi: 3.x' field)")
    if not isinstance(spec.get("paths"), dict):
        raise ConfigError(f"OpenAPI spec {where}: 'paths' is missing or not a mapping")
    return spec


def _base_url(source: OpenAPISource, spec: dict) -> str:
    """base_url from the config, else the document's first server (relative to the spec's URL)."""
    if source.base_url:
        return source.base_url
    servers = spec.get("servers") or []
    url = servers[0].get("url", "") if servers and isinstance(servers[0], dict) else ""
    for var, info in ((servers[0].get("variables") or {}).items() if url else []):
        url = url.replace("{" + var + "}", str(info.get("default", "")))
    if re.match(r"https?://", url):
        return url
    if re.match(r"https?://", source.spec):  # relative or missing server: resolve against the spec's URL
        return urljoin(source.spec, url or "/")
    raise ConfigError(f"OpenAPI spec {source.spec}: no absolute server URL in 'servers'; set base_url in "
                      "tools.openapi")


def _auth(source: OpenAPISource) -> dict[str, str]:
    if not source.auth_env:
        return {}
    value = os.environ.get(source.auth_env)
    if not value:
        raise PermissionError(f"environment variable {source.auth_env} (the {source.auth_header} header) is not set")
    return {source.auth_header: value}


def _tool_name(text: str) -> str:
    """A snake_case tool name from an operationId or "method_path"."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text)
    return re.sub(r"[^0-9a-zA-Z]+", "_", snake).strip("_").lower() or "operation"


def _segment(value: Any) -> str:
    """A path parameter as one URL segment: "/" and friends escaped, and "." or ".." never read as a step up."""
    text = quote(str(value), safe="")
    return text.replace(".", "%2E") if text in (".", "..") else text


def _plain(value: Any) -> Any:
    """Query and header values: lists stay lists (repeated keys), objects become JSON text."""
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, bool):
        return str(value).lower()
    return value


def _result(response: httpx.Response, method: str, path: str) -> Any:
    """The parsed body; our own server's envelope is unwrapped so results equal in-process ones."""
    try:
        data = response.json()
    except ValueError:
        data = None if response.content else ""
        if response.content:
            data = response.text
    if isinstance(data, dict) and set(data) == ENVELOPE_KEYS:
        if data["status"] == "ok":
            return data["data"]
        raise RuntimeError(str(data["observation"]).removeprefix("Error: "))
    if response.status_code >= 400:
        text = data if isinstance(data, str) else json.dumps(data)
        raise RuntimeError(f"HTTP {response.status_code} from {method.upper()} {path}: {text[:300]}")
    return data
