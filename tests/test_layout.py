"""The core library stays free of orchestration: ste/ never imports prefect or dvc."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ste_imports_neither_prefect_nor_dvc():
    offenders = []
    for path in (ROOT / "ste").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in {"prefect", "dvc"}]
    assert offenders == []


def test_every_dvc_stage_runs_a_flow():
    import yaml

    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        cmd = stage.get("do", stage)["cmd"]
        assert cmd.startswith("python -m flows."), name
        module = cmd.split()[2]
        assert (ROOT / (module.replace(".", "/") + ".py")).exists(), module
