"""python -m scripts.toolbox_table > toolbox.md

Print the built-in toolbox as a Markdown list by category (generated from the registry, for docs/toolbox.md).
"""
from __future__ import annotations

import sys

from ste.core.config import ToolsSection
from ste.core.tools import Registry, build_registry


def toolbox_markdown(registry: Registry) -> str:
    """One "### category" heading per category, one "- `name(args)`: description" line per tool."""
    lines = [f"{len(registry)} tools in {len(registry.categories())} categories.", ""]
    for category in registry.categories():
        lines.append(f"### {category}")
        for name in registry.select(f"category:{category}"):
            tool = registry.get(name)
            required = set(tool.parameters.get("required", []))
            args = ", ".join(k if k in required else f"{k}?" for k in tool.parameters.get("properties", {}))
            lines.append(f"- `{name}({args})`: {tool.description}")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(toolbox_markdown(build_registry(ToolsSection())))
