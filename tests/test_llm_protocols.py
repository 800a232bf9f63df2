"""Constraints reach each served model in its server's own field, against stub servers that check bodies as
the real ones read them (tests/openai_stub.py, `flavour=`), and `protocol: auto` finds which server it is."""
from __future__ import annotations

import logging

import httpx
import pytest
from pydantic import ValidationError

from ste.core.config import LLMSpec
from ste.core.errors import LLMError
from ste.core.llm import constraints as C
from ste.core.llm.base import Decoding
from ste.core.llm.gbnf import regex_to_gbnf
from ste.core.llm.openai_backend import OpenAIChatModel
from ste.core.llm.protocols import constraint_fields, detect_protocol
from ste.filter.judge import judge_constraint
from tests.openai_stub import serve_stub

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}, "date": {"type": "string", "format": "date"}},
          "required": ["city"]}
STRICT = {**SCHEMA, "required": ["city", "date"], "additionalProperties": False}
REACT = C.react_call_regex(["get_sun_times"], {"get_sun_times": SCHEMA})
REGEX = Decoding(max_tokens=64, constraint=REACT)
ARGS = Decoding(max_tokens=64, constraint=C.json_object_regex(SCHEMA), json_schema=SCHEMA)
ASK = [{"role": "user", "content": "go"}]
KEY = "sk-test-PROBE-0123456789"
PROBE_KEYS = {"llama_cpp": "default_generation_settings", "sglang": "model_path", "vllm": "version"}


def model_for(url: str, **spec) -> OpenAIChatModel:
    spec = {"backend": "openai", "model": "served", "base_url": url, "timeout_s": 2.0, "constrained": True, **spec}
    return OpenAIChatModel(LLMSpec(**spec), backoff_s=0.01, max_backoff_s=0.1)


def constraint_of(body: dict) -> dict:
    """The fields of a request body other than the plain chat ones."""
    return {k: v for k, v in body.items() if k not in ("model", "messages", "max_tokens", "temperature", "seed")}


@pytest.mark.parametrize("flavour,regex_fields,schema_fields", [
    ("vllm", {"structured_outputs": {"regex": REACT}}, {"structured_outputs": {"json": SCHEMA}}),
    ("sglang", {"regex": REACT},
     {"response_format": {"type": "json_schema", "json_schema": {"name": "arguments", "schema": SCHEMA}}}),
    ("llama_cpp", {"grammar": regex_to_gbnf(REACT)}, {"json_schema": SCHEMA}),
])
def test_auto_detects_the_server_and_the_constraint_goes_in_its_own_field(flavour, regex_fields, schema_fields,
                                                                            caplog):
    caplog.set_level(logging.INFO, logger="ste.core.llm")
    with serve_stub(lambda m, r: "ok", flavour=flavour) as url:
        m = model_for(url)
        m.chat(ASK, REGEX)
        m.chat(ASK, ARGS)
        m.chat(ASK, REGEX)
        assert [constraint_of(b) for b in url.requests] == [regex_fields, schema_fields, regex_fields]
        assert url.stats.outcomes == {"ok": 3}  # the strict stub took every body
        probes = list(url.probes)
    order = ["/props", "/get_model_info", "/version"]  # llama.cpp's, SGLang's, vLLM's; each asked once at most
    assert probes == order[:{"llama_cpp": 1, "sglang": 2, "vllm": 3}[flavour]]
    assert m.protocol() == flavour and m.cache_identity()["protocol"] == flavour
    logged = [r.getMessage() for r in caplog.records if "protocol" in r.getMessage()]
    assert logged == [f"model 'served' at {url}: constraints go by the {flavour} protocol (GET {probes[-1]} "
                      f"answered with {PROBE_KEYS[flavour]!r})"]
    assert m.usage.unenforced_constraints == 0


def test_the_strict_stubs_refuse_fields_their_server_does_not_read():
    body = {"model": "m", "messages": ASK}
    with serve_stub(flavour="vllm") as url:
        r = httpx.post(f"{url}/chat/completions", json={**body, "guided_regex": "a+"})
        assert r.status_code == 400 and "removed in vLLM v0.12.0" in r.json()["error"]["message"]
    with serve_stub(flavour="llama_cpp") as url:
        r = httpx.post(f"{url}/chat/completions", json={**body, "structured_outputs": {"regex": "a+"}})
        assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
        r = httpx.post(f"{url}/chat/completions", json={**body, "grammar": 'root ::= "a', "json_schema": {}})
        assert r.json()["error"]["message"] == "Cannot use both json_schema and grammar"
        assert httpx.post(f"{url}/chat/completions", json={**body, "grammar": 'root ::= "a'}).status_code == 400
    with serve_stub(flavour="openai") as url:
        r = httpx.post(f"{url}/chat/completions", json={**body, "regex": "a+"})
        assert r.json()["error"]["message"] == "Unrecognized request argument supplied: regex"
    with serve_stub(flavour="sglang") as url:
        assert httpx.post(f"{url}/chat/completions", json={**body, "json_schema": "{}"}).status_code == 400
        assert httpx.get(url.removesuffix("/v1") + "/get_model_info").json()["is_generation"] is True


def test_a_wrong_field_is_a_clear_error_not_a_silent_unconstrained_reply():
    """What the old top-level guided_regex did on vLLM >= 0.12 (ignored there) fails loudly on the strict stub."""
    with serve_stub(flavour="vllm") as url:
        m = model_for(url, protocol="llama_cpp")  # told the wrong server
        with pytest.raises(LLMError, match="http_400.*does not read the field 'grammar'.*not retried"):
            m.chat(ASK, REGEX)
        assert url.stats.total == 1


def test_openai_gets_a_schema_as_response_format_and_nothing_for_a_regex(caplog):
    caplog.set_level(logging.WARNING, logger="ste.core.llm")
    with serve_stub(lambda m, r: "ok", flavour="openai") as url:
        m = model_for(url)  # a server with none of the probe endpoints: auto falls back to openai
        for _ in range(3):
            m.chat(ASK, REGEX)
        m.chat(ASK, Decoding(constraint=C.json_object_regex(STRICT), json_schema=STRICT))
        m.chat(ASK, ARGS)
        bodies = [constraint_of(b) for b in url.requests]
        assert url.stats.outcomes == {"ok": 5}
    assert bodies[:3] == [{}, {}, {}]
    assert bodies[3] == {"response_format": {"type": "json_schema",
                                             "json_schema": {"name": "arguments", "schema": STRICT, "strict": True}}}
    assert bodies[4]["response_format"]["json_schema"]["strict"] is False  # an optional property: not strict
    assert m.protocol() == "openai" and m.usage.unenforced_constraints == 4
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2  # once for regexes, once for the loose schema, however many calls
    assert "model 'served'" in warnings[0] and "(protocol openai)" in warnings[0]
    assert "does not enforce regex constraints" in warnings[0] and "strictly" in warnings[1]


def test_none_sends_nothing_and_says_so_once(caplog):
    caplog.set_level(logging.WARNING, logger="ste.core.llm")
    with serve_stub(lambda m, r: "ok", flavour="vllm") as url:
        m = model_for(url, protocol="none")
        m.chat(ASK, REGEX)
        m.chat(ASK, ARGS)
        assert [constraint_of(b) for b in url.requests] == [{}, {}]
        assert url.probes == []  # an explicit protocol is never probed
    assert m.usage.unenforced_constraints == 2
    assert [r.getMessage().count("does not enforce any constraint") for r in caplog.records] == [1]


def test_no_probe_when_constraints_are_off_or_the_protocol_is_set():
    with serve_stub(lambda m, r: "ok", flavour="vllm") as url:
        off = model_for(url, constrained=None)  # the openai default: constraints off
        off.chat(ASK, REGEX)
        identity = off.cache_identity()
        model_for(url, protocol="vllm").chat(ASK, REGEX)
        assert url.probes == []
        assert constraint_of(url.requests[0]) == {} and "structured_outputs" in url.requests[1]
    assert "protocol" not in identity  # unconstrained roles keep the cache keys they had


def test_the_protocol_is_part_of_the_cache_identity():
    with serve_stub(flavour="sglang") as url:
        ids = {p: model_for(url, protocol=p).cache_identity()["protocol"] for p in ("vllm", "none")}
        assert ids == {"vllm": "vllm", "none": "none"} and model_for(url).cache_identity()["protocol"] == "sglang"


def test_detection_never_breaks_a_run():
    assert detect_protocol("http://127.0.0.1:9/v1", None, 0.5)[0] == "openai"  # nothing listens there
    assert detect_protocol(None, None) == ("openai", "the OpenAI API")
    assert detect_protocol("https://api.openai.com/v1", "sk-x") == ("openai", "the OpenAI API")  # no request made
    with serve_stub(fault_plan=[]) as url:  # a plain OpenAI-compatible server (no probe endpoint)
        protocol, how = detect_protocol(url, None)
        assert protocol == "openai" and "/version: HTTP 404" in how
    m = model_for("http://127.0.0.1:9/v1", max_retries=0)
    with pytest.raises(LLMError, match="connection"):  # the call fails as calls do; detection did not raise
        m.chat(ASK, REGEX)
    assert m.protocol() == "openai"


def test_probes_carry_the_key_which_is_never_logged(monkeypatch, caplog):
    monkeypatch.setenv("STE_PROBE_KEY", KEY)
    caplog.set_level(logging.DEBUG)
    with serve_stub(lambda m, r: "ok", flavour="llama_cpp", api_key=KEY) as url:
        m = model_for(url, api_key_env="STE_PROBE_KEY")
        m.chat(ASK, Decoding(constraint=judge_constraint()))
        assert m.protocol() == "llama_cpp"
        assert url.requests[0]["grammar"] == regex_to_gbnf(judge_constraint())
    assert KEY not in caplog.text and KEY not in str(m.cache_identity())


def test_a_regex_gbnf_cannot_express_goes_unenforced_and_says_why():
    fields, unenforced = constraint_fields("llama_cpp", r"Yes(?=!)", None)
    assert fields == {} and unenforced.startswith("a regex constraint GBNF cannot express (constraint regex:")


def test_protocol_is_validated():
    with pytest.raises(ValidationError, match="protocol"):
        LLMSpec(backend="openai", base_url="http://x/v1", protocol="guided")
    with pytest.raises(ValidationError, match="for the openai backend"):
        LLMSpec(backend="local", protocol="vllm")
    assert LLMSpec().protocol == "auto"
