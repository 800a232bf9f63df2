"""The README's toolbox list is generated from the registry, never hand-kept."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_lists_the_current_toolbox():
    table = subprocess.run([sys.executable, "-m", "scripts.toolbox_table"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout
    assert table.strip() and table.strip() in (ROOT / "README.md").read_text()
