"""Bad input fails fast and clearly; untrusted model output is never code, a path or a URL of its own.

- Bad input (the stage CLIs, in this process and one as a real stage process): a malformed or invalid params
  file, an unknown config, an empty or corrupt trials.jsonl, a broken OpenAPI spec, a model folder that is
  not there. Each exits 2 with one `error:` line naming the file and the key, and leaves the existing outputs
  untouched. The params files are named other.yaml (`--params`): messages must name the file actually read.
- Hostile Action Inputs (path traversal, code, giant numbers, deep nesting, huge and invalid strings) go
  to every registered tool, through the ReAct parser and the Registry: no exception escapes, nothing is
  created or read from disk, each call is quick, and the explore stage records them like any other call.
"""
from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ste.config.explore import ExploreSettings
from ste.core.config import OpenAPISource, ToolsSection
from ste.core.io import read_jsonl
from ste.core.react import parse_step
from ste.core.schemas import Trial
from ste.core.tools import build_registry
from ste.core.tools.base import Registry
from ste.core.tools.openapi import OpenAPIToolSource
from ste.explore.arguments import schema_values
from ste.explore.runner import run_explore
from tests.fakes import ScriptedChatModel
from tests.helpers import run_cli_in_process, run_flow, small_params, tree_digest, write_params

PREFECT_LOG = re.compile(r"^\d\d:\d\d:\d\d\.\d+ \| +[A-Z]+ +\| ")
DEAD_URL = "http://127.0.0.1:9/v1"  # never contacted: every case fails before the first LLM call


# ------------------------------------------------------------------ bad input
def _existing_outputs(folder: Path) -> Path:
    """An output folder as an earlier successful run left it."""
    folder.mkdir(parents=True)
    (folder / "trials.jsonl").write_text('{"id": "earlier"}\n')
    (folder / "kept.jsonl").write_text('{"id": "earlier"}\n')
    (folder / "summary.json").write_text('{"trials": 1}\n')
    return folder


def _case(tmp: Path, name: str) -> dict:
    """One bad-input case: the flow's arguments and what its error line must say."""
    params = small_params(DEAD_URL, tmp / "cache")
    good = write_params(tmp / "good" / "other.yaml", params)
    out = str(tmp / "out")
    explore = ("explore", "--config", "full", "--out", out, "--params")
    trials = tmp / "trials.jsonl"
    bad = tmp / "bad" / "other.yaml"
    if name == "malformed_yaml":
        bad.parent.mkdir()
        bad.write_text("explore:\n  defaults: {episodes: 2,\n")
        return {"args": (*explore, bad), "says": [str(bad), "not valid YAML at line 3"]}
    if name == "wrong_value":
        write_params(bad, small_params(DEAD_URL, tmp / "cache", {"explore": {"defaults": {"episodes": "many"}}}))
        return {"args": (*explore, bad), "says": [str(bad), "explore.defaults.episodes"]}
    if name == "unknown_key":  # each stage validates the sections it reads (explore never reads filter's)
        trials.write_text("")
        write_params(bad, small_params(DEAD_URL, tmp / "cache", {"filter": {"judges": True}}))
        return {"args": ("filter", "--trials", trials, "--out", out, "--params", bad),
                "says": [str(bad), "filter.judges: unknown key"]}
    if name == "unknown_section":  # a misspelt section stops every stage
        write_params(bad, {**params, "filtr": {"judge": True}})
        return {"args": (*explore, bad), "says": [str(bad), "filtr: unknown key; allowed keys: llm, tools, explore"]}
    if name == "unknown_config":
        return {"args": ("explore", "--config", "nope", "--out", out, "--params", good),
                "says": [f"{good}: explore.configs has no config 'nope'"]}
    if name == "empty_trials":
        trials.write_text("")
        return {"args": ("filter", "--trials", trials, "--out", out, "--params", good),
                "says": [str(trials), "no trials"]}
    if name == "corrupt_trials":
        line = json.dumps({"id": "a/e0/t0", "api": "a", "episode": 0, "index": 0, "query": "q"})
        trials.write_text(f"{line}\n{line[:25]}\n{line}\n")  # a torn line in the middle is corruption
        return {"args": ("filter", "--trials", trials, "--out", out, "--params", good),
                "says": [f"{trials}:2", "corrupt record"]}
    if name == "broken_openapi_spec":
        spec = tmp / "spec.json"
        spec.write_text(json.dumps({"openapi": "3.0.0", "servers": [{"url": "http://127.0.0.1:9"}], "paths": {
            "/a": {"get": {"parameters": [{"$ref": "#/components/parameters/missing"}]}}}}))
        write_params(bad, {**params, "tools": {"openapi": [{"spec": str(spec)}]}})
        return {"args": (*explore, bad), "says": [f"{bad}: tools.openapi[0].spec", str(spec), "points nowhere"]}
    if name == "missing_explorer_model":
        write_params(bad, small_params(DEAD_URL, tmp / "cache", {"llm": {"roles": {
            "explorer": {"backend": "local", "model": str(tmp / "no-such-model")}}}}))
        return {"args": (*explore, bad),
                "says": [f"{bad}: llm.roles.explorer.model", "no-such-model", "no config.json"]}
    if name == "missing_student_model":
        data = tmp / "sft.jsonl"
        data.write_text(json.dumps({"messages": [{"role": "user", "content": "q"},
                                                 {"role": "assistant", "content": "a"}]}) + "\n")
        write_params(bad, small_params(DEAD_URL, tmp / "cache", {"llm": {
            "models_dir": str(tmp / "models"), "roles": {"student": {"backend": "local",
                                                                     "model": str(tmp / "no-such-model")}}}}))
        return {"args": ("finetune", "--config", "full", "--data", data, "--out", out, "--params", bad),
                "says": [f"{bad}: llm.roles.student.model", "no-such-model"]}
    raise ValueError(name)


IN_PROCESS = ["malformed_yaml", "wrong_value", "unknown_key", "unknown_section", "unknown_config", "empty_trials",
              "broken_openapi_spec", "missing_explorer_model", "missing_student_model"]
AS_A_STAGE_PROCESS = "corrupt_trials"  # the real `python -m flows.filter`: its Prefect log, sys.exit, fast exit


def _check(tmp_path: Path, case: dict, returncode: int, stderr: str, elapsed: float, before: dict) -> None:
    # Prefect's own log lines ("12:00:00.000 | INFO | ...") may come before or after it (workers at exit).
    ours = [line for line in stderr.splitlines() if line.strip() and not PREFECT_LOG.match(line)]
    errors = [line for line in ours if line.startswith("error: ")]
    assert returncode == 2, stderr[-2000:]
    assert len(errors) == 1 and ours[-1] == errors[0], stderr[-2000:]
    assert all(s in errors[0] for s in case["says"]), errors[0]
    assert tree_digest(tmp_path / "out") == before
    assert elapsed < 60  # no retries, no waiting on a server


@pytest.mark.parametrize("name", IN_PROCESS)
def test_bad_input_fails_fast_with_one_clear_line_and_touches_nothing(tmp_path, prefect_env, name):
    case = _case(tmp_path, name)
    before = tree_digest(_existing_outputs(tmp_path / "out"))
    start = time.monotonic()
    returncode, stderr = run_cli_in_process(*case["args"])
    _check(tmp_path, case, returncode, stderr, time.monotonic() - start, before)


@pytest.mark.slow
def test_bad_input_in_a_stage_process(tmp_path, prefect_env):
    case = _case(tmp_path, AS_A_STAGE_PROCESS)
    before = tree_digest(_existing_outputs(tmp_path / "out"))
    start = time.monotonic()
    proc = run_flow(*case["args"], env=prefect_env, check=False, timeout=120)
    _check(tmp_path, case, proc.returncode, proc.stderr, time.monotonic() - start, before)


def test_yaml_and_model_messages_are_one_line(tmp_path):
    from ste.config.params import load_params
    from ste.core.errors import ConfigError
    from ste.core.llm.embedded import resolve_model_dir

    path = tmp_path / "params.yaml"
    path.write_text('explore:\n  defaults:\n    apis: "unterminated\n')
    with pytest.raises(ConfigError) as err:
        load_params(path)
    assert "\n" not in str(err.value) and str(err.value).startswith(f"{path}: not valid YAML at line 4")
    assert "(while scanning a quoted scalar from line 3, column 11)" in str(err.value)
    with pytest.raises(ConfigError, match=r"^params.yaml: llm.roles.judge.model: model '/nowhere'"):
        resolve_model_dir("/nowhere", tmp_path, where="params.yaml: llm.roles.judge.model")


# ------------------------------------------------------------------ untrusted model output
def _strings(sentinel: Path) -> list[str]:
    return [
        "../../../../../../etc/passwd", "/etc/passwd", "file:///etc/passwd", "C:\\Windows\\win.ini",
        "http://169.254.169.254/latest/meta-data/", "http://example.com/x",
        f"__import__('os').system('touch {sentinel}')", f"$(touch {sentinel})", f"`touch {sentinel}`",
        "9**9**9**9", "factorial(300)**300", "{{7*7}}", "'; DROP TABLE t; --", "\x00\x01\x1b[2J",
        "A" * 15_000, "x" * 30_000,  # under and over the parser's size limit (a megabyte: see the parser test)
    ]


NUMBERS = [10**4000, 1e308, -1e308, 2**63, -(2**63) - 1, 0, -1]
# JSON texts that json.dumps would not write: they only come from a model.
RAW_INPUTS = {
    "digits": "1" + "0" * 100_000,  # 10**100000
    "overflow": "1e999",
    "surrogate": '"\\ud800"',
    "nested": "[" * 10_000 + "]" * 10_000,
    "deep_objects": '{"a": ' * 10_000 + "1" + "}" * 10_000,
}
PASSWD = "root:x:0:0"


def _each_argument(names: list[str], value) -> dict:
    return {n: value for n in names} or {"x": value}


def _one_at_a_time(tool, raw: str) -> list[str]:
    """Action Input texts with `raw` (JSON text) as one argument and valid example values for the others."""
    examples = {k: v[0] for k, v in schema_values(tool.parameters).items() if v}
    names = list(tool.parameters.get("properties", {})) or ["x"]
    texts = []
    for name in names:
        others = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in examples.items() if k != name)
        texts.append("{" + ", ".join(filter(None, [others, f"{json.dumps(name)}: {raw}"])) + "}")
    return texts


@pytest.fixture(scope="module")
def toolbox() -> Registry:
    """Every tool with its data loaded (untimed, as a stage does first): the tests time the calls alone."""
    registry = build_registry(ToolsSection(timeout_s=10))
    registry.prepare()
    return registry


@pytest.mark.timeout(300)
def test_hostile_action_inputs_through_parser_and_registry(toolbox, tmp_path, monkeypatch):
    """Each hostile value in one argument at a time (the others valid), so it reaches the tool's own code."""
    monkeypatch.chdir(tmp_path)  # a relative path a tool wrote to would land here
    sentinel = tmp_path / "pwned"
    statuses: dict[str, int] = {}
    slowest = (0.0, "")
    for name in toolbox.names():
        raws = [json.dumps(v) for v in [*_strings(sentinel), *NUMBERS]] + list(RAW_INPUTS.values())
        for text in [t for raw in raws for t in _one_at_a_time(toolbox.get(name), raw)]:
            start = time.monotonic()
            step = parse_step(f"Thought: try it\nAction: {name}\nAction Input: {text}", toolbox.names())
            assert step.is_call or step.error, text[:80]
            result = toolbox.call(name, step.action_input) if step.is_call else None
            took = time.monotonic() - start
            slowest = max(slowest, (took, f"{name} {text[:60]}"))
            if result is None:
                statuses["parse_error"] = statuses.get("parse_error", 0) + 1
                continue
            statuses[result.status] = statuses.get(result.status, 0) + 1
            assert result.status in ("ok", "invalid_args", "error"), (name, text[:80], result.observation)
            assert len(result.observation) <= toolbox.max_output_chars and PASSWD not in result.observation
            result.observation.encode("utf-8")
            json.dumps(step.action_input, ensure_ascii=False).encode("utf-8")  # writable to a trial record
    print(f"\n{statuses}; slowest call {slowest[0]:.2f} s: {slowest[1]}")
    assert slowest[0] < 5
    assert statuses["parse_error"] >= len(toolbox) * 4 and statuses["invalid_args"] > len(toolbox)
    assert not sentinel.exists() and list(tmp_path.iterdir()) == []


def test_hostile_values_given_to_the_registry_directly(toolbox):
    """What the tool server passes on: Python values a JSON body can hold, without the parser's checks."""
    deep: list = []
    for _ in range(10_000):
        deep = [deep]
    for value in (10**100_000, deep, float("nan"), "\ud800", {"\ud800": 1}, "y" * 30_000):
        for name in ("evaluate_expression", "convert_units", "get_country_capital"):
            props = list(toolbox.get(name).parameters["properties"])
            result = toolbox.call(name, _each_argument(props, value))
            assert result.status in ("invalid_args", "error"), (name, result)
            result.observation.encode("utf-8")
    assert toolbox.call("../../etc/passwd", {}).status == "not_found"
    assert toolbox.call("convert_units", "__import__('os')").status == "invalid_args"


@pytest.mark.parametrize("reply", [
    "Action: ../../../etc/passwd\nAction Input: {}",
    "Action: __import__('os').system('touch x')\nAction Input: {}",
    "Action: convert_units; rm -rf /\nAction Input: {}",
    "Action: convert_units\nAction Input: __import__('os').system('touch x')",
    "Action: convert_units\nAction Input: {'value': __import__('os').getpid()}",
    "Action: convert_units\nAction Input: {\"value\": 1" + "}" * 100_000,
    "Action: convert_units\nAction Input: " + "{" * 100_000,
    "Thought: " + "t" * 1_000_000 + "\nAction: convert_units\nAction Input: {}",
])
def test_parser_refuses_hostile_replies_quickly(reply, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    start = time.monotonic()
    step = parse_step(reply, ["convert_units"])
    assert time.monotonic() - start < 1
    assert step.error or step.is_call
    assert list(tmp_path.iterdir()) == []


@pytest.mark.timeout(120)
def test_explore_records_hostile_calls_and_finishes(toolbox, tmp_path, monkeypatch):
    """An explorer that writes only hostile Action Inputs: every one is an observation, the stage ends."""
    monkeypatch.chdir(tmp_path)
    sentinel = tmp_path / "pwned"
    inputs = [json.dumps({"value": 1, "from_unit": s, "to_unit": "km"}) for s in _strings(sentinel)[:10]]
    inputs += ['{"value": %s, "from_unit": "mile", "to_unit": "km"}' % raw for raw in RAW_INPUTS.values()]

    def hostile(messages, d):
        if d.stop == ("Observation:",):
            turn = sum(m["content"].startswith("Observation") for m in messages)
            return f"Action: convert_units\nAction Input: {inputs[(d.seed + turn) % len(inputs)]}"
        if d.stop == ("Thought:",):
            return f"User Query: convert case {d.seed} please"
        return "Yes"

    settings = ExploreSettings(apis=["convert_units"], episodes=2, trials_per_episode=4, max_calls=4,
                               imagination="query_first")
    run_explore(toolbox, ScriptedChatModel(hostile), settings, tmp_path / "out", concurrency=1,
                local_explorer=False, progress=False)
    trials = read_jsonl(tmp_path / "out" / "trials.jsonl", Trial)
    turns = [turn for t in trials for turn in t.turns]
    assert len(trials) == 8 and len(turns) >= 8 * 4
    assert all(turn.observation and (turn.parse_error or turn.status in ("invalid_args", "error")) for turn in turns)
    assert any("lone surrogate" in (turn.parse_error or "") for turn in turns)
    assert not sentinel.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# ------------------------------------------------------------------ served tools stay on their URL
class _Recorder(BaseHTTPRequestHandler):
    paths: list[str] = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.paths.append(self.path)
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_served_tool_arguments_never_leave_the_path_or_host(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        spec = {"openapi": "3.0.0", "servers": [{"url": f"http://127.0.0.1:{server.server_address[1]}/api"}],
                "paths": {"/items/{item_id}": {"get": {"operationId": "getItem", "parameters": [
                    {"name": "item_id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "note", "in": "header", "schema": {"type": "string"}}]}}}}
        (tmp_path / "spec.json").write_text(json.dumps(spec))
        registry = Registry(OpenAPIToolSource(OpenAPISource(spec=str(tmp_path / "spec.json"))).tools())
        for item in ("..", ".", "../../../etc/passwd", "http://example.com/x", "//example.com/x", "a?b=c#d", "%2e%2e/"):
            result = registry.call("get_item", {"item_id": item})
            assert result.ok and result.data["path"].startswith("/api/items/") and "/" not in result.data["path"][11:]
        injected = registry.call("get_item", {"item_id": "1", "note": "x\r\nX-Injected: 1"})
        assert injected.status == "error"
    finally:
        server.shutdown()
        server.server_close()
    assert len(_Recorder.paths) == 7
