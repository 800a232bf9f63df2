"""How each OpenAI-compatible server takes a structured-decoding constraint, and which server a URL leads to.

A constraint is a regex (`Decoding.constraint`), plus its JSON Schema when the regex is exactly one JSON object
(`Decoding.json_schema`). Each server has its own request field, checked against the server's own code and docs:

- vLLM >= 0.12 (`vllm`): `structured_outputs: {"regex": ...}` or `{"json": schema}`
  (docs/features/structured_outputs.md; the top-level `guided_regex`/`guided_json` were removed in v0.12.0 and are
  now ignored with a log line only).
  Detected by `GET /version` -> `{"version": ...}` (vllm/entrypoints/openai/api_server.py, `show_version`).
- SGLang (`sglang`): `regex` (python/sglang/srt/entrypoints/openai/protocol.py, ChatCompletionRequest), and a schema
  as `response_format: {"type": "json_schema", "json_schema": {"name", "schema"}}`: the top-level `json_schema`
  string of its docs is a field of /v1/completions only, which chat requests would silently ignore.
  Detected by `GET /get_model_info` -> `{"model_path": ..., "is_generation": ...}` (srt/entrypoints/http_server.py).
- llama.cpp's llama-server (`llama_cpp`): `grammar` (GBNF text; the regex translated by `ste.core.llm.gbnf`) or
  `json_schema` (a schema object), never both (tools/server/README.md; both at once is a 400).
  Detected by `GET /props` -> `{"default_generation_settings": ..., ...}` (tools/server/README.md).
- OpenAI (`openai`): `response_format: {"type": "json_schema", "json_schema": {"name", "schema", "strict"}}` and
  nothing for a regex (platform.openai.com/docs/guides/structured-outputs). `strict: true` only takes schemas whose
  every object lists all its properties as required and sets `additionalProperties: false`; any other schema goes
  with `strict: false`, which OpenAI follows as a hint only.
- `none`: nothing is sent.
"""
from __future__ import annotations

import logging

import httpx

from ste.core.llm.gbnf import regex_to_gbnf

log = logging.getLogger(__name__)

PROTOCOLS = ("vllm", "sglang", "llama_cpp", "openai", "none")
SCHEMA_NAME = "arguments"  # the name OpenAI and SGLang require for a response_format schema
# GET path -> (protocol, a key its JSON reply always has); llama.cpp and SGLang first, since a fork of either
# might also answer vLLM's /version.
PROBES = (("/props", "llama_cpp", "default_generation_settings"), ("/get_model_info", "sglang", "model_path"),
          ("/version", "vllm", "version"))
PROBE_TIMEOUT_S = 5.0


def constraint_fields(protocol: str, regex: str, json_schema: dict | None) -> tuple[dict, str | None]:
    """The request fields that carry a constraint on `protocol`, and what of it the server does not enforce.

    Args:
        protocol: one of PROTOCOLS.
        regex: the constraint (a regex the whole reply must match).
        json_schema: the JSON Schema when `regex` is exactly one JSON object of it, else None.

    Returns:
        (fields to add to the chat request, None when the server enforces it all, else what it does not enforce).
    """
    if protocol == "vllm":
        return {"structured_outputs": {"regex": regex} if json_schema is None else {"json": json_schema}}, None
    if protocol == "sglang":
        if json_schema is None:
            return {"regex": regex}, None
        return {"response_format": _response_format(json_schema)}, None
    if protocol == "llama_cpp":
        if json_schema is not None:
            return {"json_schema": json_schema}, None
        try:
            return {"grammar": regex_to_gbnf(regex)}, None
        except ValueError as e:
            return {}, f"a regex constraint GBNF cannot express ({e})"
    if protocol == "openai":
        if json_schema is None:
            return {}, "regex constraints (OpenAI's API takes JSON schemas only)"
        strict = openai_strict(json_schema)
        fields = {"response_format": _response_format(json_schema, strict=strict)}
        return fields, None if strict else ("the JSON schema strictly (not in OpenAI's strict subset: an optional "
                                            "property or no additionalProperties: false), sent with strict: false")
    return {}, "any constraint (protocol none)"


def _response_format(schema: dict, strict: bool | None = None) -> dict:
    spec = {"name": SCHEMA_NAME, "schema": schema}
    if strict is not None:
        spec["strict"] = strict
    return {"type": "json_schema", "json_schema": spec}


def openai_strict(schema) -> bool:
    """True when every object in `schema` requires all its properties and sets additionalProperties false."""
    if isinstance(schema, list):
        return all(openai_strict(s) for s in schema)
    if not isinstance(schema, dict):
        return True
    if schema.get("type") == "object" or "properties" in schema:
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is not False or set(schema.get("required", [])) != set(props):
            return False
    children = [v for k, v in schema.items() if k in ("properties", "$defs", "definitions")]
    nested = [s for group in children for s in group.values()]
    nested += [schema[k] for k in ("items", "anyOf", "oneOf", "allOf") if k in schema]
    return all(openai_strict(s) for s in nested)


def detect_protocol(base_url: str | None, api_key: str | None, timeout_s: float = PROBE_TIMEOUT_S) -> tuple[str, str]:
    """Which server answers at `base_url`, from cheap GET probes; never raises.

    Args:
        base_url: the role's base_url (".../v1"); None means api.openai.com.
        api_key: sent as a bearer token (llama-server started with --api-key guards /props too); never logged.
        timeout_s: for each probe.

    Returns:
        (protocol, how it was found), e.g. ("vllm", "GET /version answered {'version': ...}"); ("openai", why) when
        the URL is OpenAI's, or when no probe matched or the server could not be reached.
    """
    if not base_url or httpx.URL(base_url).host == "api.openai.com":
        return "openai", "the OpenAI API"
    root = base_url.rstrip("/").removesuffix("/v1")
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    failures = []
    with httpx.Client(timeout=timeout_s, headers=headers, follow_redirects=False) as client:
        for path, protocol, key in PROBES:
            try:
                reply = client.get(root + path)
                body = reply.json() if reply.status_code == 200 else None
            except (httpx.HTTPError, ValueError) as e:  # unreachable, timed out, not JSON
                failures.append(f"{path}: {type(e).__name__}")
                continue
            if isinstance(body, dict) and key in body:
                return protocol, f"GET {path} answered with {key!r}"
            failures.append(f"{path}: HTTP {reply.status_code}")
    return "openai", "no server-specific endpoint answered (" + ", ".join(failures) + ")"
