"""How much experience each student learned from: its training examples per API, after filtering and after
paraphrase (the paraphrase stage's summary.json: `per_api`, and the `caps` that bounded them)."""
from __future__ import annotations

from collections import defaultdict

MIN_EXAMPLES = 20  # fewer than this per API is too little experience to learn an API from


def examples_table(per_config: dict[str, dict | None], caps: dict[str, dict | None] | None = None,
                   minimum: int = MIN_EXAMPLES) -> str:
    """A row per API, a column per config: 'after (kept)' = training examples after paraphrase (of them kept from
    exploration), '*' where under `minimum`; then how many (config, API) cells fall short, and why (`why_short`).
    Empty without data.

    Args:
        per_config: config -> its paraphrase summary's `per_api` ({api: {"before": kept, "after": examples}};
            empty where filtering kept nothing), None where the config has no summary.
        caps: config -> its paraphrase summary's `caps` ({"target_per_api", "max_per_seed"}), None if unknown.
        minimum: the fewest examples an API should have.
    """
    known = {c: per_api for c, per_api in per_config.items() if per_api is not None}  # {}: nothing kept
    apis = sorted({api for per_api in known.values() for api in per_api})
    if not apis:
        return ""
    lines = ["## Training examples per API", "",
             f"Examples after paraphrase (kept from exploration after filtering); * under {minimum}.", "",
             "| API | " + " | ".join(known) + " |", "|---|" + "---|" * len(known)]
    short = []
    for api in apis:
        cells = []
        for config, per_api in known.items():
            counts = per_api.get(api, {"before": 0, "after": 0})
            if counts["after"] < minimum:
                short.append((config, api, counts["before"], counts["after"]))
            cells.append(f"{counts['after']} ({counts['before']})" + ("*" if counts["after"] < minimum else ""))
        lines.append(f"| {api} | " + " | ".join(cells) + " |")
    total = len(apis) * len(known)
    if not short:
        return "\n".join([*lines, "", f"Every API of every config has at least {minimum} examples."]) + "\n"
    lines += ["", f"{len(short)} of {total} (config, API) pairs have fewer than {minimum} examples."]
    why = why_short(short, caps or {}, apis)
    return "\n".join(lines + ([why] if why else [])) + "\n"


def why_short(short: list[tuple[str, str, int, int]], caps: dict[str, dict | None], apis: list[str]) -> str:
    """One sentence on what bounded each short (config, API, kept, examples) cell: the paraphrase target, the
    few examples exploration kept (each gives itself and at most `max_per_seed` paraphrases), none kept, or
    paraphrases the checks rejected. Empty where no config's caps are known."""
    kinds: dict[str, list[tuple[str, str]]] = defaultdict(list)
    targets, per_seed = set(), set()
    for config, api, kept, after in short:
        cap = caps.get(config)
        if not cap:
            continue
        targets.add(cap["target_per_api"])
        per_seed.add(cap["max_per_seed"])
        if after >= cap["target_per_api"]:
            kinds["target"].append((config, api))
        elif kept == 0:
            kinds["none"].append((config, api))
        elif after >= kept * (1 + cap["max_per_seed"]):
            kinds["explored"].append((config, api))
        else:
            kinds["rejected"].append((config, api))
    if not kinds:
        return ""
    said = []
    if kinds["target"]:
        said.append(f"{len(kinds['target'])} stop at `paraphrase.target_per_api` ({_values(targets)})")
    if kinds["explored"]:
        said.append(f"{len(kinds['explored'])} are bound by exploration, which kept too few examples (each gives "
                    f"itself and at most `paraphrase.max_per_seed` = {_values(per_seed)} paraphrases): "
                    + _cells(kinds["explored"], apis))
    if kinds["none"]:
        said.append(f"{len(kinds['none'])} kept no example from exploration: " + _cells(kinds["none"], apis))
    if kinds["rejected"]:
        said.append(f"{len(kinds['rejected'])} lost paraphrases to the checks: " + _cells(kinds["rejected"], apis))
    return "Why: " + "; ".join(said) + "."


def _values(values: set[int]) -> str:
    return " or ".join(str(v) for v in sorted(values))


def _cells(cells: list[tuple[str, str]], apis: list[str]) -> str:
    """'every API of config' where a config has every API in `cells`, then 'api (config, config)' for the rest."""
    by_config: dict[str, set[str]] = defaultdict(set)
    for config, api in cells:
        by_config[config].add(api)
    whole = [c for c, have in by_config.items() if have == set(apis)]
    by_api: dict[str, list[str]] = defaultdict(list)
    for config, api in cells:
        if config not in whole:
            by_api[api].append(config)
    return ", ".join([f"every API of {c}" for c in whole] +
                     [f"{api} ({', '.join(configs)})" for api, configs in sorted(by_api.items())])
