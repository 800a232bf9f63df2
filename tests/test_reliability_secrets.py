"""API keys come only from the environment and never land on disk; local services bind 127.0.0.1.

A pipeline (explore, filter, paraphrase CLIs against the stub, which refuses any request without the key)
runs with a recognisable fake key, plus one run whose key the server rejects; then every output, log,
DVC file, the LLM cache and the Prefect home (its SQLite database included) is searched for the key.
"""
from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT, react_responder, run_flow, small_params, write_params
from tests.openai_stub import serve_stub

KEY_ENV = "STE_LEAKCHECK_KEY"
RUN = {"explore": {"defaults": {"apis": ["convert_units", "get_country_capital"]}}}


def _files_holding(needles: list[bytes], roots: list[Path]) -> list[str]:
    """Every file under `roots` whose bytes contain one of `needles`."""
    hits = []
    for root in roots:
        for path in [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()):
            data = path.read_bytes()
            if any(n in data for n in needles):
                hits.append(str(path))
    return hits


@pytest.mark.slow
def test_the_api_key_is_sent_but_never_written_anywhere(tmp_path, prefect_env):
    token = secrets.token_hex(12)
    key = f"sk-LEAKCHECK-{token}"
    env = {**prefect_env, KEY_ENV: key}
    logs = tmp_path / "logs"
    logs.mkdir()
    out = {s: tmp_path / s for s in ("explore", "filter", "paraphrase", "rejected")}

    def stage(name: str, *args, **kw) -> subprocess.CompletedProcess:
        proc = run_flow(*args, "--params", params, env=env, **kw)
        (logs / f"{name}.out").write_text(proc.stdout)
        (logs / f"{name}.err").write_text(proc.stderr)
        return proc

    with serve_stub(react_responder, api_key=key) as url:
        params = write_params(tmp_path / "params.yaml", small_params(url, tmp_path / "cache", RUN,
                                                                     api_key_env=KEY_ENV))
        stage("explore", "explore", "--config", "full", "--out", out["explore"])
        stage("filter", "filter", "--trials", out["explore"] / "trials.jsonl", "--out", out["filter"])
        stage("paraphrase", "paraphrase", "--config", "full", "--kept", out["filter"] / "kept.jsonl",
              "--out", out["paraphrase"])
        outcomes = dict(url.stats.outcomes)
    # Every request carried "Authorization: Bearer <key>": the stub answers 401 to anything else.
    assert outcomes.keys() == {"ok"} and outcomes["ok"] > 10
    with serve_stub(react_responder, api_key="sk-the-server-wants-another") as url:
        params = write_params(tmp_path / "rejected.yaml", small_params(url, tmp_path / "cache2", RUN,
                                                                       api_key_env=KEY_ENV))
        rejected = stage("rejected", "explore", "--config", "full", "--out", out["rejected"], check=False)
        assert url.stats.outcomes["401"] >= 1
    error = rejected.stderr.rstrip().splitlines()[-1]  # the cause is what the run ends on
    assert rejected.returncode == 2 and "http_401" in error and f"check the key in {KEY_ENV}" in error, error

    home = Path(prefect_env["PREFECT_HOME"])
    # The runs were recorded in the database (or its write-ahead log, not yet folded in): we search the right place.
    assert any(".db" in Path(p).name for p in _files_holding([b"paraphrase"], [home]))
    dvc_files = [ROOT / name for name in ("dvc.yaml", "dvc.lock", "params.yaml") if (ROOT / name).exists()]
    roots = [*out.values(), logs, tmp_path / "cache", tmp_path / "cache2", tmp_path / "params.yaml", home,
             *dvc_files]
    assert len(list((tmp_path / "cache").rglob("*.json"))) > 10
    needles = [key.encode(), token.encode()]
    assert _files_holding(needles, roots) == []
    (logs / "canary.txt").write_text(f"Authorization: Bearer {key}")  # the search itself works
    assert _files_holding(needles, roots) == [str(logs / "canary.txt")]


def test_tool_server_binds_localhost_by_default(monkeypatch, tmp_path):
    import uvicorn

    from ste.core.tools import server

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw))
    server.main(["--params", str(tmp_path / "absent.yaml")])
    assert seen["host"] == "127.0.0.1"


def test_prefect_server_script_binds_localhost(tmp_path):
    """Run scripts/prefect_server.sh with stand-ins for prefect and curl; check the address it starts."""
    fake = tmp_path / "bin"
    fake.mkdir()
    # the fake server answers from its start until `stop` removes its pid file (stop waits for that)
    (fake / "curl").write_text('#!/bin/sh\ntest -f "$PREFECT_HOME/started" && test -f "$PREFECT_HOME/server.pid"\n')
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "prefect").write_text('#!/bin/sh\necho "$@" > "$PREFECT_HOME/args"\ntouch "$PREFECT_HOME/started"\n')
    for script in (fake / "curl", venv / "prefect"):
        script.chmod(0o755)
    home = tmp_path / "home"
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "PREFECT_HOME": str(home)}
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "prefect_server.sh"), "start", "4999"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    args = (home / "args").read_text().split()
    assert args[args.index("--host") + 1] == "127.0.0.1" and "0.0.0.0" not in args
    assert "http://127.0.0.1:4999" in proc.stdout
    subprocess.run(["bash", str(ROOT / "scripts" / "prefect_server.sh"), "stop", "4999"], cwd=tmp_path, env=env,
                   timeout=60, check=True)
    makefile = (ROOT / "Makefile").read_text()
    assert "PREFECT_API_URL ?= http://127.0.0.1:" in makefile and "0.0.0.0" not in makefile


def test_no_key_in_params_or_argv():
    """Keys are named (api_key_env, auth_env), never given: the config has no field that could hold one."""
    from ste.core.config import LLMSpec, OpenAPISource

    assert not any("key" in f and not f.endswith("_env") for f in LLMSpec.model_fields)
    assert not any(("key" in f or "token" in f or "secret" in f) and not f.endswith("_env")
                   for f in OpenAPISource.model_fields)
    flows = "\n".join(p.read_text() for p in (ROOT / "flows").glob("*.py"))
    assert "api_key" not in flows and "--key" not in flows  # no flow takes a key on the command line
