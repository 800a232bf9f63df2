"""Report task: the ablation report (Markdown + chart) and the data of the DVC plots, from every stage's outputs."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from tasks.common import stage_task
from ste.core.io import atomic_write_text
from ste.report.continual import continual_section
from ste.report.report import (chart, collect, compare, comparison_pairs, continual_rows, continual_table,
                               correct_rows, markdown, scored_unseen, without_untrained_dpo)

CORRECT_COLUMNS = ["config", "mode", "label", "correct", "lo", "hi"]
CONTINUAL_COLUMNS = ["setting", "round", "batch", "label", "correct", "lo", "hi"]
LOSS_COLUMNS = ["config", "step", "loss"]


@stage_task(retries=0)
def write_report(configs: list[str], modes: list[str], mode_pairs: list[tuple[str, str]], explore_dir: str,
                 metrics_dir: str, continual_dir: str, eval_dir: str, out_dir: str, plots_dir: str,
                 models_dir: str, paraphrase_dir: str) -> str:
    """Write ablation.md and ablation.png under out_dir; correct.csv, continual.csv and loss.csv under plots_dir."""
    data = collect(configs, Path(explore_dir), Path(metrics_dir), Path(paraphrase_dir), Path(models_dir),
                   Path(continual_dir))
    pairs = comparison_pairs(configs, modes, mode_pairs, unseen=scored_unseen(data))
    compared = compare(without_untrained_dpo(pairs, data), Path(eval_dir))
    continual = continual_table(data) or continual_section(Path(continual_dir))  # older files: no counts
    text = "# STE ablation report\n\n" + markdown(data, modes, compared) + continual
    atomic_write_text(Path(out_dir) / "ablation.md", text)
    chart(data, modes, Path(out_dir) / "ablation.png")
    atomic_write_text(Path(plots_dir) / "correct.csv", _csv(correct_rows(data, modes), CORRECT_COLUMNS))
    atomic_write_text(Path(plots_dir) / "continual.csv", _csv(continual_rows(data), CONTINUAL_COLUMNS))
    atomic_write_text(Path(plots_dir) / "loss.csv", _csv(loss_rows(configs, Path(models_dir)), LOSS_COLUMNS))
    return text


def loss_rows(configs: list[str], models_dir: Path) -> list[dict]:
    """Every config's fine-tuning loss curve (models/<config>/loss.csv) as tidy rows: config, step, loss."""
    rows = []
    for config in configs:
        path = models_dir / config / "loss.csv"
        if path.exists():
            rows += [{"config": config, "step": r["step"], "loss": r["loss"]}
                     for r in csv.DictReader(io.StringIO(path.read_text()))]
    return rows


def _csv(rows: list[dict], columns: list[str]) -> str:
    """CSV text with its header even when there are no rows."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()
