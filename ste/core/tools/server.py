"""python -m ste.core.tools.server --host 127.0.0.1 --port 8300

Serve the tool registry over HTTP: `POST /tools/<name>` with a JSON object of arguments, `GET /health`.
Every tool's JSON Schema is its request body schema in `/openapi.json`, so `ste.core.tools.openapi` can rebuild it.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from ste.core.config import Sections, ToolsSection
from ste.core.tools.base import Registry, Tool


class ToolsParams(Sections):
    """What the tool server reads of params.yaml."""

    tools: ToolsSection = ToolsSection()


# HTTP status per tool status: clients that ignore the envelope still see a failure.
HTTP_STATUS = {"ok": 200, "invalid_args": 422, "not_found": 404, "error": 500, "timeout": 504}
ENVELOPE_SCHEMA = {
    "type": "object",
    "properties": {"status": {"type": "string", "enum": list(HTTP_STATUS)},
                   "observation": {"type": "string"}, "data": {}},
    "required": ["status", "observation"],
}


def _operation(tool: Tool) -> dict[str, Any]:
    """The OpenAPI fields of one tool's operation (merged into FastAPI's generated document)."""
    envelope = {"content": {"application/json": {"schema": ENVELOPE_SCHEMA}}}
    return {
        "requestBody": {"required": True, "content": {"application/json": {"schema": tool.parameters}}},
        "responses": {str(code): {"description": status, **envelope} for status, code in HTTP_STATUS.items()},
        "tags": [tool.category],
        "x-query-examples": tool.examples,
    }


def create_app(registry: Registry) -> FastAPI:
    """A FastAPI app that exposes every tool of `registry` as `POST /tools/<name>`."""
    app = FastAPI(title="STE tools", version="1.0",
                  description="Tools of the simulated trial-and-error workflow. Each call returns "
                              '{"status", "observation", "data"}.')

    @app.get("/health", include_in_schema=False)  # not a tool
    def health() -> dict:
        return {"status": "ok", "tools": len(registry)}

    for name in registry.names():
        tool = registry.get(name)
        app.add_api_route(f"/tools/{name}", _handler(registry, name), methods=["POST"], operation_id=name,
                          summary=tool.description.split(". ")[0], description=tool.description,
                          openapi_extra=_operation(tool), response_class=JSONResponse)
    return app


def _handler(registry: Registry, name: str):
    """The endpoint of one tool: any JSON body goes to the registry, which validates it."""

    async def call_tool(request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            body = None  # not JSON: the registry answers invalid_args
        result = await run_in_threadpool(registry.call, name, body)
        return JSONResponse({"status": result.status, "observation": result.observation, "data": result.data},
                            status_code=HTTP_STATUS[result.status])

    call_tool.__name__ = f"call_{name}"
    return call_tool


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    from ste.core.tools import build_registry

    parser = argparse.ArgumentParser(description="Serve the STE tool registry over HTTP.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8300)
    parser.add_argument("--params", default="params.yaml")
    args = parser.parse_args(argv)
    section = ToolsParams.load(args.params).tools if Path(args.params).exists() else ToolsSection()
    section = section.model_copy(update={"openapi": []})  # serve the built-in tools, never a loop of ourselves
    registry = build_registry(section)
    registry.prepare()  # every tool's data before the first request: a client's timeout never waits on a load
    uvicorn.run(create_app(registry), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
