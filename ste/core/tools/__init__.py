"""The tool registry: the built-in toolbox plus every OpenAPI service listed in params.yaml."""
from __future__ import annotations

from ste.core.config import ToolsSection
from ste.core.errors import ConfigError
from ste.core.tools.base import Registry, Tool, ToolResult, ToolSource
from ste.core.tools.builtin import builtin_tools

__all__ = ["Registry", "Tool", "ToolResult", "ToolSource", "build_registry", "builtin_tools"]


def build_registry(section: ToolsSection) -> Registry:
    """All tools of `section` in one Registry (tool names must be unique across sources)."""
    from ste.core.tools.openapi import OpenAPIToolSource  # httpx only when asked for

    tools: list[Tool] = builtin_tools(section.today)
    for i, source in enumerate(section.openapi):
        try:
            tools.extend(OpenAPIToolSource(source).tools())
        except ConfigError as err:  # name the params.yaml entry too, not only the spec's file or URL
            raise ConfigError(f"{section.source}: tools.openapi[{i}].spec: {err}") from None
    return Registry(tools, timeout_s=section.timeout_s, max_output_chars=section.max_output_chars)
