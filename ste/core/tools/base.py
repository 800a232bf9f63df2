"""Tools and the registry that calls them. A call never raises into the caller."""
from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable

import jsonschema

from ste.core.errors import ConfigError, STEError
from ste.core.schemas import ToolStatus


@dataclass
class Tool:
    """One API the explorer can learn.

    Args:
        name: the API name the model writes on its `Action:` line.
        description: what it does, written like a public API's docs.
        category: a group name (e.g. "geography"), used to select APIs.
        parameters: a JSON Schema object (properties, required, enums, examples).
        func: the implementation; called with the validated arguments as keywords.
        examples: 2-3 natural user questions it answers (query seeds for imagining).
        load: reads every data file and table `func` needs (a package's database, an index), so that no call
            loads data; idempotent. The Registry runs it once, untimed, before the tool's first call: a call's
            timeout then measures the call, never a first-use load that a busy machine makes slow.
    """

    name: str
    description: str
    category: str
    parameters: dict[str, Any]
    func: Callable[..., Any]
    examples: list[str] = field(default_factory=list)
    load: Callable[[], Any] | None = None

    def signature(self) -> str:
        """A compact, model-readable description of the tool and its arguments."""
        props = self.parameters.get("properties", {})
        required = set(self.parameters.get("required", []))
        args = []
        for key, spec in props.items():
            kind = spec.get("type", "any")
            if "enum" in spec:
                kind = " | ".join(json.dumps(v) for v in spec["enum"])
            need = "required" if key in required else "optional"
            note = f": {spec['description']}" if spec.get("description") else ""
            args.append(f'    "{key}" ({kind}, {need}){note}')
        body = "\n".join(args) or "    (no arguments)"
        return f"{self.name}: {self.description}\n  Arguments (a JSON object):\n{body}"


@dataclass
class ToolResult:
    status: ToolStatus
    observation: str  # what the model sees
    data: Any = None  # the raw result, for code (executable correctness)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class ToolSource(ABC):
    """Where tools come from: the built-in toolbox, an OpenAPI service, ..."""

    @abstractmethod
    def tools(self) -> list[Tool]:
        """The tools this source offers."""


class _Loader:
    """One `Tool.load`, run at most once (whichever thread comes first runs it, the others wait for it, untimed);
    its failure is kept, so every later call of its tools fails the same way."""

    # One load at a time in the process: loaders share caches (cities, countries); reentrant, so a loader may
    # call another tool through a registry.
    _running = threading.RLock()

    def __init__(self, load: Callable[[], Any]):
        self.load = load
        self.done = False
        self.error: Exception | None = None

    def run(self) -> Exception | None:
        if not self.done:
            with self._running:
                if not self.done:
                    try:
                        self.load()
                    except Exception as err:  # an interrupt propagates and leaves it to run again
                        self.error = err
                    self.done = True
        return self.error


class Registry:
    """Named tools, validated calls, per-call timeouts and truncated outputs. A tool's data is loaded (Tool.load)
    once before its first call, outside the call's timeout; `prepare` loads it up front."""

    def __init__(self, tools: list[Tool], timeout_s: float = 5.0, max_output_chars: int = 2048):
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            if tool.name in self._tools:
                raise ConfigError(f"two tools are named {tool.name!r}; tool names must be unique")
            jsonschema.Draft202012Validator.check_schema(tool.parameters)
            self._tools[tool.name] = tool
        self.timeout_s = timeout_s
        self.max_output_chars = max_output_chars
        loaders: dict[Any, _Loader] = {}  # tools sharing a loader (a module's tools) share its one run
        self._loaders = {t.name: loaders.setdefault(t.load, _Loader(t.load)) for t in tools if t.load is not None}

    # -------------------------------------------------------------- lookup
    def names(self) -> list[str]:
        return list(self._tools)

    def categories(self) -> list[str]:
        return sorted({t.category for t in self._tools.values()})

    def __contains__(self, name: str) -> bool:
        return name in self._tools

    def __len__(self) -> int:
        return len(self._tools)

    def get(self, name: str) -> Tool:
        if name not in self._tools:
            raise ConfigError(f"unknown API {name!r}; known APIs: {', '.join(self._tools)}")
        return self._tools[name]

    def select(self, spec: str | list[str]) -> list[str]:
        """API names for a selection: "all", "category:<name>", or a list of names."""
        if isinstance(spec, list):
            for name in spec:
                self.get(name)
            return list(spec)
        if spec == "all":
            return self.names()
        if spec.startswith("category:"):
            cat = spec.split(":", 1)[1]
            names = [t.name for t in self._tools.values() if t.category == cat]
            if not names:
                raise ConfigError(f"no API in category {cat!r}; categories: {', '.join(self.categories())}")
            return names
        raise ConfigError(f"API selection {spec!r}: use 'all', 'category:<name>' or a list of API names")

    def describe(self, names: list[str] | None = None) -> str:
        """The tool descriptions shown to a model, one block per API."""
        return "\n\n".join(self.get(n).signature() for n in (names or self.names()))

    # -------------------------------------------------------------- data
    def prepare(self, names: list[str] | None = None) -> None:
        """Load the data of the tools `names` (default: all) now, so that no call loads any.

        Raises ConfigError for an unknown name, and STEError naming the tool when its data does not load (a call
        of that tool would answer with the same error).
        """
        for name in names if names is not None else self.names():
            self.get(name)
            error = self._load(name)
            if error is not None:
                raise STEError(f"the data of API {name!r} did not load: {_short(error)}") from error

    def _load(self, name: str) -> Exception | None:
        loader = self._loaders.get(name)
        return loader.run() if loader is not None else None

    # -------------------------------------------------------------- calling
    def call(self, name: str, arguments: Any, timeout_s: float | None = None) -> ToolResult:
        """Call `name` with `arguments`; every failure comes back as a ToolResult."""
        tool = self._tools.get(name)
        if tool is None:
            return ToolResult("not_found", f"Error: no API named {name!r}. Available APIs: {', '.join(self._tools)}.")
        if not isinstance(arguments, dict):
            return ToolResult("invalid_args", "Error: Action Input must be a JSON object of arguments.")
        problem = _size_problem(arguments) or _schema_problem(tool, arguments)
        if problem:
            return ToolResult("invalid_args", f"Error: invalid arguments for {name}: {problem}")
        return self._run(tool, arguments, timeout_s or self.timeout_s)

    def _run(self, tool: Tool, arguments: dict, timeout_s: float) -> ToolResult:
        error = self._load(tool.name)  # before the clock starts: loading data is never part of a timed call
        if error is not None:
            return ToolResult("error", f"Error: {tool.name} failed: its data did not load ({_short(error)}).")
        box: dict[str, ToolResult] = {}

        def target() -> None:
            try:  # rendering runs here too, so a pathological result is bounded by the timeout as well
                box["result"] = self._render(tool.func(**arguments))
            except BaseException as err:  # the tool's own failure (even SystemExit) becomes an observation
                box["result"] = ToolResult("error", f"Error: {tool.name} failed: {_short(err)}")

        # A daemon thread per call: a hung tool is abandoned, never waited on past the timeout.
        worker = threading.Thread(target=target, daemon=True, name=f"tool-{tool.name}")
        worker.start()
        worker.join(timeout_s)
        if worker.is_alive():
            return ToolResult("timeout", f"Error: {tool.name} did not answer within {timeout_s:g} s.")
        return box.get("result") or ToolResult("error", f"Error: {tool.name} failed.")

    def _render(self, value: Any) -> ToolResult:
        if isinstance(value, (bytes, bytearray, memoryview)):
            return ToolResult("error", f"Error: the API returned {len(bytes(value))} bytes of binary data.")
        try:
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        except Exception as err:  # circular, too deep, a __str__ that raises ...
            return ToolResult("error", f"Error: the API returned an unprintable result ({_short(err)}).")
        return ToolResult("ok", _plain_text(truncate(text, self.max_output_chars)), value)


def truncate(text: str, limit: int) -> str:
    """Cut `text` to `limit` characters, saying how much was dropped."""
    if len(text) <= limit:
        return text
    note = f" ... [truncated {len(text) - limit} characters]"
    return text[: max(0, limit - len(note))] + note


def _short(err: BaseException) -> str:
    try:
        msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    except Exception:  # an exception whose __str__ fails
        msg = type(err).__name__
    return _plain_text(truncate(msg, 300))


def _plain_text(text: str) -> str:
    """`text` with lone surrogates replaced, so the observation can be written to a UTF-8 file."""
    return text.encode("utf-8", "replace").decode("utf-8")


MAX_ARGUMENT_CHARS = 20_000  # bigger inputs are refused before validation (which could take seconds)


def _size_problem(arguments: dict) -> str | None:
    try:
        size = len(json.dumps(arguments, default=str))
    except (TypeError, ValueError, RecursionError):
        return "the arguments are not plain JSON values"
    return f"the arguments are {size} characters long; the limit is {MAX_ARGUMENT_CHARS}" if size > MAX_ARGUMENT_CHARS else None


def _schema_problem(tool: Tool, arguments: dict) -> str | None:
    """A one-line reason the arguments do not fit the tool's schema, or None."""
    validator = jsonschema.Draft202012Validator(tool.parameters)
    try:
        error = jsonschema.exceptions.best_match(validator.iter_errors(arguments))
    except RecursionError:
        return "the arguments are nested too deeply"
    if error is None:
        return None
    where = ".".join(str(p) for p in error.absolute_path)
    message = truncate(error.message, 300)
    return f"{where}: {message}" if where else message
