"""The README and docs/: generated parts current, links alive, every server command bound to one interface."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SERVERS = ("vllm serve", "sglang.launch_server", "llama-server", "dask scheduler", "dask worker")


def test_the_toolbox_page_lists_the_current_toolbox():
    table = subprocess.run([sys.executable, "-m", "scripts.toolbox_table"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout
    assert table.strip() and table.strip() in (ROOT / "docs" / "toolbox.md").read_text()


def test_the_readme_stays_a_readme():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250


def test_every_server_command_binds_one_interface():
    commands = [line for page in PAGES for line in page.read_text().splitlines()
                if any(server in line for server in SERVERS) and not line.lstrip().startswith(("-", "|", "["))
                and re.match(r"^\s*(\S+=\S+\s+)?(vllm|python -m sglang|llama-server|dask)\b", line.strip())]
    assert len(commands) >= 6
    unbound = [line for line in commands if "--host" not in line and "\\" not in line]
    assert not unbound, unbound


def test_relative_links_resolve():
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
