"""The ablation report: every rate with its 95% interval, students compared on the same items, one chart.

Reads each config's exploration summary (data/explore/<config>/summary.json), its metrics
(metrics/<config>.json: {mode: metrics}, plus an optional "leakage" entry), the baseline's
(metrics/baseline.json) and, for the paired comparisons, the per-item predictions
(data/eval/<config>/<mode>/predictions.jsonl; the baseline's under data/eval/baseline/baseline/).
A comparison of two students uses only the items both were scored on: the difference in Correct with
Newcombe's paired interval and McNemar's exact p-value (ste.core.stats).
"""
from __future__ import annotations

import json
from pathlib import Path

from ste.core.io import read_jsonl
from ste.core.stats import ALPHA, holm, min_significant_items, paired_test

METRICS = [("well_formed", "Well-formed"), ("api_match", "API match"), ("correct", "Correct"),
           ("executable", "Executable")]
EXPLORE_STATS = [("mode", "Imagination"), ("trials", "Trials"), ("valid_query_rate", "Valid queries"),
                 ("solved_rate", "Solved"), ("unique_query_rate", "Unique queries"), ("calls", "Calls"),
                 ("ok_call_rate", "OK calls"), ("tokens", "Tokens")]
# No wall times or throughput: they depend on the machine and its load, not on the run's inputs, and this report
# is a DVC output. Each stage writes them to logs/timings/ instead (`python -m scripts.timings` prints them).
REFERENCE = "full"  # every other config is compared with it, mode by mode
BASELINE = ("baseline", "baseline")  # (config, mode) of the untrained student
MODE_PAIRS = [("finetuned", "icl"), ("sft+dpo", "finetuned")]  # (first, second): compared within each config


def _load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def collect(configs: list[str], explore_dir: Path, metrics_dir: Path, paraphrase_dir: Path | None = None,
            models_dir: Path | None = None) -> dict:
    """{"configs": {config: {"explore": summary, "modes": {mode: metrics}, "leakage": counts or None,
    "pairs": the paraphrase stage's pair counts, "dpo": the DPO summary}}, "baseline": metrics}."""
    rows = {}
    for c in configs:
        metrics = _load(metrics_dir / f"{c}.json")
        leakage = metrics.pop("leakage", None)
        pairs = _load(paraphrase_dir / c / "summary.json").get("pairs") if paraphrase_dir else None
        dpo = _load(models_dir / c / "dpo" / "summary.json") if models_dir else {}
        rows[c] = {"explore": _load(explore_dir / c / "summary.json"), "modes": metrics, "leakage": leakage,
                   "pairs": pairs, "dpo": dpo}
    return {"configs": rows, "baseline": _load(metrics_dir / "baseline.json").get("baseline", {})}


# ---------------------------------------------------------------- paired comparisons
def comparison_pairs(configs: list[str], modes: list[str], mode_pairs: list[tuple[str, str]] = MODE_PAIRS,
                     reference: str = REFERENCE) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """Which students to compare, as ((config, mode), (config, mode)) pairs, first minus second.

    Each config against `reference` in every student mode; `reference` in every student mode against the
    baseline; and within each config, every (first, second) of `mode_pairs` whose modes both ran.
    """
    student = [m for m in modes if m != "baseline"]
    pairs = []
    if reference in configs:
        pairs += [((c, m), (reference, m)) for c in configs if c != reference for m in student]
        if "baseline" in modes:
            pairs += [((reference, m), BASELINE) for m in student]
    pairs += [((c, a), (c, b)) for c in configs for a, b in mode_pairs if a in student and b in student]
    return pairs


def dpo_untrained(row: dict) -> bool:
    """Whether a config's DPO stage wrote an untrained result (its sft+dpo student is then its SFT student)."""
    return bool((row.get("dpo") or {}).get("untrained"))


def without_untrained_dpo(pairs: list[tuple[tuple[str, str], tuple[str, str]]], data: dict) -> list:
    """Drop the comparisons of an sft+dpo student whose DPO did not train: it is its fine-tuned student, so they
    repeat other comparisons and would only inflate the Holm family."""
    def untrained(student: tuple[str, str]) -> bool:
        return student[1] == "sft+dpo" and dpo_untrained(data["configs"].get(student[0], {}))
    return [(a, b) for a, b in pairs if not (untrained(a) or untrained(b))]


def predictions_path(eval_dir: Path, config: str, mode: str) -> Path:
    return eval_dir / config / mode / "predictions.jsonl"


def compare(pairs: list[tuple[tuple[str, str], tuple[str, str]]], eval_dir: Path) -> list[dict]:
    """`paired_test` on Correct for each pair, from the predictions files; a pair with a file missing
    comes back with "missing": [paths] instead."""
    loaded: dict[tuple[str, str], dict | None] = {}

    def correct(student: tuple[str, str]) -> dict | None:
        if student not in loaded:
            path = predictions_path(eval_dir, *student)
            loaded[student] = {p["id"]: bool(p["correct"]) for p in read_jsonl(path)} if path.exists() else None
        return loaded[student]

    out = []
    for first, second in pairs:
        a, b = correct(first), correct(second)
        if a is None or b is None:
            missing = [str(predictions_path(eval_dir, *s)) for s, v in ((first, a), (second, b)) if v is None]
            out.append({"first": first, "second": second, "missing": missing})
        else:
            out.append({"first": first, "second": second, **paired_test(a, b)})
    return out


def adjust(compared: list[dict]) -> list[dict]:
    """The comparisons with `p_holm`, and `significant` decided on it: the report reads every comparison
    together, and Holm's adjustment keeps the chance of any false "significant" among them at or below ALPHA."""
    done = [t for t in compared if t.get("n")]
    adjusted = dict(zip(map(id, done), holm([t["p"] for t in done])))
    return [{**t, "p_holm": adjusted[id(t)], "significant": adjusted[id(t)] < ALPHA} if id(t) in adjusted else t
            for t in compared]


def student_name(student: tuple[str, str]) -> str:
    return "baseline" if student == BASELINE else f"{student[0]} {student[1]}"


def comparison_label(first: tuple[str, str], second: tuple[str, str]) -> str:
    """'no_stm vs full (finetuned)', 'full: finetuned vs icl', 'full finetuned vs baseline'."""
    if first[1] == second[1] and BASELINE not in (first, second):
        return f"{first[0]} vs {second[0]} ({first[1]})"
    if first[0] == second[0]:
        return f"{first[0]}: {first[1]} vs {second[1]}"
    return f"{student_name(first)} vs {student_name(second)}"


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _diff(t: dict) -> str:
    lo, hi = t["diff_ci"]
    return f"{t['diff']:+.1f} [{lo:+.1f}, {hi:+.1f}]"


def comparisons_markdown(compared: list[dict]) -> str:
    """The comparisons as a table, then in words: which differences are significant at 0.05, which are
    not, and a warning where no split of the items could have been significant."""
    if not compared:
        return ""
    done = [t for t in compared if t.get("n")]  # both predictions files there, with items in common
    lines = ["## Paired comparisons (Correct, on the items both students answered)", "",
             "Difference = first minus second, in points, with its 95% interval (Newcombe's score interval "
             "for paired proportions); p = McNemar's exact test on the items only one of the two got right; "
             f"p (Holm) = p adjusted for the {len(done)} comparisons of this table, which decides significance.", "",
             "| Comparison | n | Both right | Only first | Only second | Difference [95% CI] | p | p (Holm) |",
             "|---|---|---|---|---|---|---|---|"]
    for t in done:
        lines.append(f"| {comparison_label(t['first'], t['second'])} | {t['n']} | {t['both']} | {t['only_a']} | "
                     f"{t['only_b']} | {_diff(t)} | {_p(t['p'])} | {_p(t['p_holm'])} |")
    lines.append("")
    significant = [t for t in done if t["significant"]]
    lines.append(f"{len(significant)} of {len(done)} differences are significant at {ALPHA} after Holm's "
                 "adjustment." if done else "No comparison could be made.")
    lines.append("")
    for t in done:
        d, (lo, hi) = t["diff"], t["diff_ci"]
        how = (f"is {abs(d):.1f} points {'above' if d > 0 else 'below'}" if d else "scores the same as")
        verdict = "significant" if t["significant"] else "not significant"
        p = _p(t["p"]) if t["p"] < 0.001 else f"= {_p(t['p'])}"
        lines.append(f"- {student_name(t['first'])} {how} {student_name(t['second'])} on the same {t['n']} items "
                     f"(95% CI {lo:+.1f} to {hi:+.1f}, p {p}, Holm {_p(t['p_holm'])}): {verdict} at {ALPHA}.")
    small = [t for t in done if not t["could_be_significant"]]
    if small:
        m = min_significant_items()
        sizes = ", ".join(f"{100 * m / n:.1f} points on {n} items" for n in sorted({t["n"] for t in small}) if n)
        lines += ["", f"**Warning:** {len(small)} of these differences are smaller than {m} items, the least that "
                  f"McNemar's exact test can call significant at {ALPHA} even when every discordant item goes one "
                  f"way ({sizes}). For them \"not significant\" says the test set is too small to tell, not that "
                  "the students are alike."]
    missing = sorted({p for t in compared for p in t.get("missing", [])})
    if missing:
        lines += ["", "Not compared, predictions missing: " + ", ".join(f"`{p}`" for p in missing) + "."]
    disjoint = [comparison_label(t["first"], t["second"]) for t in compared if t.get("n") == 0]
    if disjoint:
        lines += ["", "Not compared, no test item in common: " + ", ".join(disjoint) + "."]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- tables
def rate_cell(metrics: dict, key: str) -> str:
    """'60.0 [31.3, 83.2]': the rate in % with its 95% interval; '–' when absent (no interval in older files)."""
    v = metrics.get(key)
    if v is None:
        return "–"
    ci = metrics.get(f"{key}_ci")
    return f"{100 * v:.1f}" + (f" [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]" if ci else "")


def _leaked(leakage: dict | None) -> str:
    return "–" if not leakage else f"{leakage.get('any', 0)}/{leakage.get('items', '?')}"


def _leak_detail(name: str, leakage: dict) -> str:
    """'full 4/80 (shared_value 3, near_duplicate_query 1)': the count and its breakdown by kind."""
    kinds = ", ".join(f"{k} {v}" for k, v in leakage.items() if k not in ("any", "items"))
    return f"{name} {_leaked(leakage)}" + (f" ({kinds})" if kinds else "")


def results_table(data: dict, modes: list[str]) -> str:
    """A row per exploration config and student mode (the baseline first), every rate with its 95% interval;
    a Split column when the metrics name their split, a Leaked column when a config has leakage counts."""
    rows = [("(no STE)", "baseline", data["baseline"], None)] if data["baseline"] else []
    rows += [(name, m, row["modes"].get(m, {}), row["leakage"]) for name, row in data["configs"].items()
             for m in modes if m != "baseline"]
    show_split = any("split" in metrics for _, _, metrics, _ in rows)
    leaky = {name: row["leakage"] for name, row in data["configs"].items() if row["leakage"]}
    head = (["Config", "Student"] + ["Split"] * show_split + ["n"] + [label for _, label in METRICS]
            + ["Leaked"] * bool(leaky))
    lines = ["## Student on the gold test set (%)", "",
             "Each rate with its 95% Wilson interval; n = test items scored (API match is out of the well-formed "
             "replies).", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, mode, metrics, leakage in rows:
        cells = [name, mode] + [metrics.get("split", "–")] * show_split + [str(metrics.get("n", "–"))]
        cells += [rate_cell(metrics, k) for k, _ in METRICS] + [_leaked(leakage)] * bool(leaky)
        lines.append("| " + " | ".join(cells) + " |")
    if leaky:
        lines += ["", "Leaked: test items that overlap the config's training data, of the items checked: "
                  + "; ".join(_leak_detail(name, leakage) for name, leakage in leaky.items()) + "."]
    return "\n".join(lines) + "\n"


def exploration_table(data: dict) -> str:
    lines = ["## Exploration", "", "| Config | " + " | ".join(label for _, label in EXPLORE_STATS) + " |",
             "|" + "---|" * (len(EXPLORE_STATS) + 1)]
    for name, row in data["configs"].items():
        lines.append(f"| {name} | " + " | ".join(_stat(row["explore"], k) for k, _ in EXPLORE_STATS) + " |")
    return "\n".join(lines) + "\n"


def failures_table(data: dict, compared: list[dict]) -> str:
    """Learning from failures: each config's preference pairs by kind, what DPO trained, and sft+dpo against
    finetuned on the same items (from the paired comparisons)."""
    rows = {name: row for name, row in data["configs"].items() if row.get("pairs") is not None}
    if not rows:
        return ""
    versus = {t["first"][0]: t for t in compared
              if t.get("n") and t["first"][1] == "sft+dpo" and t["second"] == (t["first"][0], "finetuned")}
    lines = ["## Learning from failures (DPO on preference pairs)", "",
             "Pairs: a failed call against the call that worked. The explorer's: within a trial, across trials of "
             "the same query, or against a call the filter dropped. The student's own: replies sampled from the "
             "fine-tuned student on its training queries that failed when run (ste/dpo/onpolicy.py). DPO continues the "
             "fine-tuned student on them (the fine-tuned student, frozen, is the reference); with no pairs the "
             "sft+dpo student is the fine-tuned one.", "",
             "| Config | Pairs | Within trial | Across trials | After filter | Student's own (failed samples) "
             "| DPO steps | Final margin | sft+dpo - finetuned [95% CI] | p (Holm) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, row in rows.items():
        pairs, dpo, t = row["pairs"], row.get("dpo") or {}, versus.get(name)
        own = dpo.get("on_policy") or {}
        steps = "untrained" if dpo_untrained(row) else dpo.get("steps", "–")
        margin = dpo.get("final_margin")
        lines.append(f"| {name} | {pairs.get('pairs', 0) + own.get('pairs', 0)} | {pairs.get('within_trial', 0)} | "
                     f"{pairs.get('across_trials', 0)} | {pairs.get('after_filter', 0)} | "
                     f"{own.get('pairs', 0)} ({own.get('failed', 0)}/{own.get('samples', 0)}) | {steps} | "
                     f"{'–' if margin is None else f'{margin:.3f}'} | {_diff(t) if t else '–'} | "
                     f"{_p(t['p_holm']) if t else '–'} |")
    tested = list(versus.values())
    if all(dpo_untrained(row) for row in rows.values()):
        lines += ["", "No config produced a preference pair, so DPO trained in none and each sft+dpo student is its "
                  "fine-tuned student: this run says nothing about learning from failures."]
    better = [t for t in tested if t["significant"] and t["diff"] > 0]
    worse = [t for t in tested if t["significant"] and t["diff"] < 0]
    if tested:
        helped = ("helped significantly in " + ", ".join(t["first"][0] for t in better) if better else
                  "helped in no config" if worse else "made no significant difference in any config")
        verdict = "DPO on failures " + helped + (
            " and hurt significantly in " + ", ".join(t["first"][0] for t in worse) if worse else "")
        lines += ["", verdict + f" (of {len(tested)} configs compared, Holm-adjusted, at {ALPHA})."]
    return "\n".join(lines) + "\n"


def markdown(data: dict, modes: list[str], compared: list[dict] | None = None) -> str:
    """The results table, the paired comparisons (`compare`'s output), learning from failures and the exploration
    stats."""
    compared = adjust(compared or [])
    sections = [results_table(data, modes), comparisons_markdown(compared), failures_table(data, compared),
                exploration_table(data)]
    return "\n".join(s for s in sections if s)


def _stat(stats: dict, key: str) -> str:
    """One exploration figure: rates as percentages, counts whole."""
    if key == "valid_query_rate" and stats.get("trials"):
        v = stats.get("valid_queries", 0) / stats["trials"]
    else:
        v = _tokens(stats) if key == "tokens" else stats.get(key)
    if v is None:
        return "–"
    if key.endswith("_rate"):
        return f"{100 * v:.0f}%"
    return f"{v:,.0f}" if isinstance(v, (int, float)) else str(v)


def _tokens(stats: dict):
    """LLM tokens of the run: the explore summary's prompt + completion counts."""
    if "prompt_tokens" in stats:
        return stats["prompt_tokens"] + stats.get("completion_tokens", 0)
    tok = stats.get("tokens")
    if isinstance(tok, dict):
        return sum(v for v in tok.values() if isinstance(v, (int, float)))
    return tok


# ---------------------------------------------------------------- chart and plot data
def correct_rows(data: dict, modes: list[str]) -> list[dict]:
    """Tidy rows for the DVC plot: config, mode, label, correct, lo, hi (in %), the baseline first."""
    students = [("baseline", "baseline", data["baseline"])] if data["baseline"] else []
    students += [(name, m, row["modes"][m]) for name, row in data["configs"].items()
                 for m in modes if m != "baseline" and m in row["modes"]]
    out = []
    for config, mode, metrics in students:
        if metrics.get("correct") is None:
            continue
        lo, hi = metrics.get("correct_ci") or (metrics["correct"],) * 2
        out.append({"config": config, "mode": mode, "label": "baseline" if config == "baseline" else
                    f"{config} {mode}", "correct": round(100 * metrics["correct"], 1),
                    "lo": round(100 * lo, 1), "hi": round(100 * hi, 1)})
    return out


def chart(data: dict, modes: list[str], path: Path) -> None:
    """Grouped bars: Correct (%) per config and mode with 95% intervals; the baseline as a dashed line and band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(data["configs"])
    shown = [m for m in modes if m != "baseline"]
    rows = {(r["config"], r["mode"]): r for r in correct_rows(data, modes)}
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(names)) + 2, 4))
    width = 0.8 / max(1, len(shown))
    for i, mode in enumerate(shown):
        got = [rows.get((n, mode), {"correct": 0, "lo": 0, "hi": 0}) for n in names]
        errors = [[r["correct"] - r["lo"] for r in got], [r["hi"] - r["correct"] for r in got]]
        ax.bar([x + i * width for x in range(len(names))], [r["correct"] for r in got], width, label=mode,
               yerr=errors, capsize=3, error_kw={"elinewidth": 1})
    if ("baseline", "baseline") in rows:
        base = rows["baseline", "baseline"]
        ax.axhline(base["correct"], color="gray", linestyle="--", label="baseline (band: 95% interval)")
        ax.axhspan(base["lo"], base["hi"], color="gray", alpha=0.15, linewidth=0, zorder=0)
    ax.set_xticks([x + width * (len(shown) - 1) / 2 for x in range(len(names))], names, rotation=20)
    ax.set_ylabel("Correct (%), 95% interval")
    ax.set_ylim(0, 100)
    ax.set_title("Student correctness by exploration config")
    ax.legend(loc="upper left", bbox_to_anchor=(1, 1), fontsize="small")  # outside: bars and whiskers reach 100
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
