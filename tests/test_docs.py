"""The README and docs/: generated parts current, links alive, every server command bound to one interface."""
import re
import subprocess
import sys
from pathlib import Path

import yaml

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


TUNED = re.compile(r"^\s*(\w+): (\[[^]#]*\]|\S+)\s+"  # key: value (a number or a [list])
                   r"# chosen on dev by (docs/sweeps/\S+\.md) \((\w+) ([\w+]+(?: unseen)?)\)", re.M)


def _value(text: str):
    """A swept value as written in params.yaml or a sweep table: a number, else YAML (a list becomes a tuple)."""
    try:
        return float(text)
    except ValueError:
        value = yaml.safe_load(text)
        return tuple(value) if isinstance(value, list) else value


def _first_table(text: str) -> list[str]:
    """A sweep record's Correct table (the paired table follows it), without its separator row."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| "))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return [line for line in lines[start:end] if line.startswith("| ")]


def test_every_setting_tuned_on_dev_is_the_best_row_of_its_committed_sweep():
    """params.yaml's `# chosen on dev by docs/sweeps/<name>.md (<config> <student>[ unseen])`: the sweep is in git,
    it swept that key on the dev split, and the value set has the most correct answers in that student's column
    (on the seen APIs' items, or the unseen APIs')."""
    params = (ROOT / "params.yaml").read_text()
    tuned = TUNED.findall(params)
    assert {key for key, *_ in tuned} >= {"lr"} and len(tuned) >= 2
    for key, value, sweep, config, student in tuned:
        rows = [line.split(" | ") for line in _first_table((ROOT / sweep).read_text())]
        head, body = rows[0], rows[1:]
        swept = next(h for h in head if h.endswith(f".{key}"))  # the section's key: finetune.lr, dpo.lr
        assert all(row[head.index("evaluate.split")] == "dev" for row in body), sweep
        column = head.index(f"{config} {student}")
        correct = {_value(row[head.index(swept)]): int(row[column].split("/")[0]) for row in body}
        setting = yaml.safe_load(params)
        for part in swept.split("."):  # the swept key's own section: dpo.lr, not finetune.lr
            setting = setting[part]
        assert _value(str(setting)) == _value(value), (swept, value)
        assert len(correct) >= 3 and correct[_value(value)] == max(correct.values()), (sweep, correct)
