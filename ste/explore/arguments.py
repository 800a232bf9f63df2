"""Argument values for call-first imagination: from the schema, from earlier results, or from the explorer.

The schema and observed sources are pure code (the embedded explorer is weak at picking values);
the generated source asks the explorer, constrained to the tool's JSON schema on the local backend.
"""
from __future__ import annotations

import json
import random
from typing import Any

import jsonschema

from ste.core.schemas import Trial

SOURCES = ("schema", "observed", "generated")
_MAX_OBSERVED = 200  # values kept per observation, so a huge result cannot blow up memory


def source_order(offset: int, trial_number: int) -> list[str]:
    """The sources in the order a trial tries them: rotated by trial so consecutive trials differ."""
    k = (offset + trial_number) % len(SOURCES)
    return list(SOURCES[k:] + SOURCES[:k])


def _fits(schema: dict, value: Any) -> bool:
    try:
        return jsonschema.Draft202012Validator(schema).is_valid(value)
    except (jsonschema.exceptions.SchemaError, RecursionError):
        return False


def _unique(values: list) -> list:
    seen, out = set(), []
    for v in values:
        key = json.dumps(v, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def schema_values(schema: dict) -> dict[str, list]:
    """Per property: the enum values, "examples" and default the schema itself offers."""
    out = {}
    for key, spec in schema.get("properties", {}).items():
        values = [*spec.get("enum", []), *spec.get("examples", [])]
        if "default" in spec:
            values.append(spec["default"])
        out[key] = [v for v in _unique(values) if _fits(spec, v)]
    return out


def _scalars(obj: Any, out: dict[str, list], budget: list[int]) -> None:
    """Collect scalar values by their field name, anywhere in a JSON result."""
    stack = [(None, obj)]
    while stack and budget[0] > 0:
        key, value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.items())
        elif isinstance(value, list):
            stack.extend((key, v) for v in value)
        elif key is not None and isinstance(value, (str, int, float, bool)):
            out.setdefault(str(key), []).append(value)
            budget[0] -= 1


def observed_values(schema: dict, earlier: list[Trial]) -> dict[str, list]:
    """Per property: values seen in earlier successful results and calls of this API (same field name)."""
    seen: dict[str, list] = {}
    for trial in earlier:
        call = trial.imagination.get("seed_call")
        texts = [call["observation"]] if call and call.get("status") == "ok" else []
        for turn in trial.turns:
            if turn.status == "ok":
                texts.append(turn.observation or "")
                for key, value in (turn.action_input or {}).items():
                    seen.setdefault(key, []).append(value)
        for text in texts:
            try:
                _scalars(json.loads(text), seen, [_MAX_OBSERVED])
            except (json.JSONDecodeError, TypeError, RecursionError):
                continue  # a plain-text or truncated result has no fields to reuse
    props = schema.get("properties", {})
    return {k: [v for v in _unique(seen.get(k, [])) if _fits(spec, v)] for k, spec in props.items()}


def pick(schema: dict, primary: dict[str, list], fallback: dict[str, list], rng: random.Random) -> dict | None:
    """Arguments drawn from `primary` values (else `fallback`); None when a required one has no value.

    Optional properties are included about half of the time, so their absence gets explored too.
    """
    required = set(schema.get("required", []))
    args = {}
    for key in schema.get("properties", {}):
        values = primary.get(key) or fallback.get(key) or []
        if not values:
            if key in required:
                return None
            continue
        if key in required or rng.random() < 0.5:
            args[key] = rng.choice(values)
    return args


def pick_new(schema: dict, primary: dict[str, list], fallback: dict[str, list], rng: random.Random,
             tried: set[str], draws: int = 20) -> dict | None:
    """Like `pick`, but arguments no earlier trial used (compared as sorted JSON); None when none is found."""
    for _ in range(draws):
        args = pick(schema, primary, fallback, rng)
        if args is None:
            return None
        if json.dumps(args, ensure_ascii=False, sort_keys=True) not in tried:
            return args
    return None
