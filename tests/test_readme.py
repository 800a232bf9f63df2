"""The README's toolbox list is generated from the registry, never hand-kept."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_results_are_the_committed_outputs():
    """The results block is generated from metrics/ and reports/ (python -m scripts.readme_results --write)."""
    from scripts.readme_results import BEGIN, END, results_block

    text = (ROOT / "README.md").read_text()
    assert text[text.index(BEGIN) + len(BEGIN):text.index(END)].strip() == results_block().strip()


def test_readme_never_points_outside_the_repository():
    assert "../shared" not in (ROOT / "README.md").read_text()
