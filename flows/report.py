"""python -m flows.report --out reports

Writes reports/ablation.md and reports/ablation.png from the DVC outputs of every config.
"""
from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.common import run_cli, stage_parser
from ste.config import load_params
from ste.io import atomic_write_text
from ste.report import chart, collect, markdown


@task(cache_policy=NO_CACHE)
def write_report(configs: list[str], modes: list[str], out: str) -> str:
    """Gather summaries and metrics; write the Markdown table and the chart."""
    data = collect(configs, Path("data/explore"), Path("metrics"))
    text = "# STE ablation report\n\n" + markdown(data, modes)
    from ste.continual_report import continual_section  # the continual-learning tables, when present

    text += continual_section(Path("metrics/continual"))
    atomic_write_text(Path(out) / "ablation.md", text)
    chart(data, modes, Path(out) / "ablation.png")
    return text


@flow(name="report")
def report_flow(out: str = "reports", params_path: str = "params.yaml") -> str:
    """The ablation report across all exploration configs and evaluation modes."""
    params = load_params(params_path)
    return write_report(list(params.explore.configs), list(params.evaluate.modes), out)


def main() -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--out", default="reports")
    args = parser.parse_args()
    load_params(args.params)
    report_flow(args.out, args.params)


if __name__ == "__main__":
    run_cli(main, stage=True)
