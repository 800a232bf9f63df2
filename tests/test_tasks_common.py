"""Task-level retries: only transient faults (network, timeouts, 429/5xx) are retried; a bug runs once."""
from __future__ import annotations

from collections import Counter

import httpx
import openai
import pytest

from ste.core.errors import ConfigError, DataError, LLMError
from tasks import common
from tasks.common import is_transient


def _status(code: int) -> openai.APIStatusError:
    response = httpx.Response(code, request=httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions"))
    return openai.APIStatusError(f"HTTP {code}", response=response, body=None)


def _gave_up(cause: BaseException) -> LLMError:
    """What the openai backend raises once its own retries are spent: our error, the cause as __context__."""
    try:
        raise cause
    except Exception:
        try:
            raise LLMError("model 'stub' at http://127.0.0.1:9/v1: gave up after 4 tries") from None
        except LLMError as err:
            return err


def _tool_spec_down() -> ConfigError:
    """What building the registry raises when a served tool's OpenAPI spec cannot be fetched."""
    try:
        httpx.get("http://127.0.0.1:9/openapi.json", timeout=2)
    except httpx.HTTPError:
        try:
            raise ConfigError("OpenAPI spec http://127.0.0.1:9/openapi.json: could not be read") from None
        except ConfigError as err:
            return err
    raise AssertionError("port 9 answered")


TRANSIENT = {
    "connect": httpx.ConnectError("connection refused"),
    "timeout": TimeoutError("read timed out"),
    "connection_reset": ConnectionResetError(104, "reset by peer"),
    "openai_timeout": openai.APITimeoutError(httpx.Request("POST", "http://127.0.0.1:9/v1")),
    "rate_limited": _status(429),
    "server_error": _status(503),
    "llm_gave_up_on_connection": _gave_up(openai.APIConnectionError(request=httpx.Request("POST", "http://x"))),
    "llm_gave_up_on_502": _gave_up(_status(502)),
    "tool_spec_down": _tool_spec_down(),
}
DETERMINISTIC = {
    "value": ValueError("a bug"),
    "key": KeyError("missing"),
    "bad_input": DataError("trials.jsonl: no trials"),
    "bad_request": _status(400),
    "llm_rejected_key": _gave_up(_status(401)),
    "runtime": RuntimeError("CUDA out of memory"),
}


@pytest.mark.parametrize("name", TRANSIENT)
def test_transient_faults_are_recognised_through_the_chain(name):
    assert is_transient(TRANSIENT[name])


@pytest.mark.parametrize("name", DETERMINISTIC)
def test_other_errors_are_not_transient(name):
    assert not is_transient(DETERMINISTIC[name])


def test_a_task_retries_transient_faults_and_runs_a_bug_once(prefect_env, monkeypatch):
    from prefect import flow

    monkeypatch.setattr(common, "RETRY_DELAYS_S", (0, 0, 0))  # read when a task is made: the ones below
    calls: Counter = Counter()
    errors = {"value": ValueError("a bug"), "key": KeyError("missing"), "connect": httpx.ConnectError("refused"),
              "llm_gave_up": TRANSIENT["llm_gave_up_on_502"]}

    @common.stage_task
    def failing(kind: str) -> None:
        calls[kind] += 1
        raise errors[kind]

    @common.stage_task(retries=0)
    def local_compute(kind: str) -> None:
        calls[f"local-{kind}"] += 1
        raise errors[kind]

    @flow
    def run_all() -> dict:
        states = {kind: failing(kind, return_state=True) for kind in errors}
        states["local-connect"] = local_compute("connect", return_state=True)
        return {kind: state.is_failed() for kind, state in states.items()}

    failed = run_all()
    assert all(failed.values()), failed
    assert calls == {"value": 1, "key": 1, "connect": 3, "llm_gave_up": 3, "local-connect": 1}
