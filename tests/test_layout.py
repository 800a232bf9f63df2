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


# ---------------------------------------------------------------- stage packages over a neutral core
STAGES = ("explore", "filter", "paraphrase", "training", "dpo", "evaluate", "continual", "report")
# A stage package imports another only where it runs that stage's code: DPO continues the SFT adapter with
# the shared training loop; a continual round fine-tunes (training) and is scored as the evaluate stage scores.
CONSUMES = {"dpo": {"training"}, "continual": {"training", "evaluate"}}


def _ste_imports() -> dict[str, set[str]]:
    """Every module of ste/ -> the ste modules it imports anywhere in its body (lazy imports too)."""
    from ste.core.provenance import imported_modules, module_file

    graph = {}
    for path in sorted((ROOT / "ste").rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        # `from package import module` names the package too: a module's own packages are no edge of a cycle.
        graph[name] = {m for m in imported_modules(path, name)
                       if m.startswith("ste.") and module_file(m) and not name.startswith(m + ".")} - {name}
    return graph


def _package(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


def test_ste_has_no_import_cycle():
    graph, done, path = _ste_imports(), set(), []

    def visit(module: str) -> None:
        if module in path:
            raise AssertionError("import cycle: " + " -> ".join(path[path.index(module):] + [module]))
        if module in done:
            return
        path.append(module)
        for imported in sorted(graph.get(module, ())):
            visit(imported)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_the_core_imports_no_stage_package_and_the_config_only_the_core():
    offenders = [f"{m} -> {i}" for m, imported in _ste_imports().items() for i in imported
                 if (_package(m) == "core" and _package(i) != "core")
                 or (_package(m) == "config" and _package(i) not in ("core", "config"))]
    assert offenders == []


def test_stage_packages_import_each_other_only_where_they_run_that_code():
    offenders = [f"{m} -> {i}" for m, imported in _ste_imports().items() for i in imported
                 if _package(m) in STAGES and _package(i) in STAGES and _package(i) != _package(m)
                 and _package(i) not in CONSUMES.get(_package(m), ())]
    assert offenders == []
    assert {p.name for p in (ROOT / "ste").iterdir() if (p / "__init__.py").exists()} == {*STAGES, "core", "config"}


def test_no_private_name_is_imported_across_modules_of_ste():
    offenders = []
    for path in (ROOT / "ste").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ste"):
                offenders += [f"{path.relative_to(ROOT)}: {a.name}" for a in node.names if a.name.startswith("_")]
    assert offenders == []


def test_package_inits_import_nothing_heavy():
    """A stage's package init runs before any of its modules: it imports nothing (the tools' registry aside)."""
    heavy = []
    for init in (ROOT / "ste").rglob("__init__.py"):
        if init.parent.name in ("tools", "builtin", "prompts"):  # the registry, its plug-ins, the prompt loader
            continue
        tree = ast.parse(init.read_text())
        if any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(tree)):
            heavy.append(str(init.relative_to(ROOT)))
    assert heavy == []
