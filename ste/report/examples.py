"""How much experience each student learned from: its training examples per API, after filtering and after
paraphrase (the paraphrase stage's summary.json, `per_api`)."""
from __future__ import annotations

MIN_EXAMPLES = 20  # fewer than this per API is too little experience to learn an API from


def examples_table(per_config: dict[str, dict | None], minimum: int = MIN_EXAMPLES) -> str:
    """A row per API, a column per config: 'after (kept)' = training examples after paraphrase (of them kept from
    exploration), '*' where under `minimum`; then how many (config, API) cells fall short. Empty without data.

    Args:
        per_config: config -> its paraphrase summary's `per_api` ({api: {"before": kept, "after": examples}};
            empty where filtering kept nothing), None where the config has no summary.
        minimum: the fewest examples an API should have.
    """
    known = {c: per_api for c, per_api in per_config.items() if per_api is not None}  # {}: nothing kept
    apis = sorted({api for per_api in known.values() for api in per_api})
    if not apis:
        return ""
    lines = ["## Training examples per API", "",
             f"Examples after paraphrase (kept from exploration after filtering); * under {minimum}.", "",
             "| API | " + " | ".join(known) + " |", "|---|" + "---|" * len(known)]
    short = 0
    for api in apis:
        cells = []
        for per_api in known.values():
            counts = per_api.get(api, {"before": 0, "after": 0})
            short += counts["after"] < minimum
            cells.append(f"{counts['after']} ({counts['before']})" + ("*" if counts["after"] < minimum else ""))
        lines.append(f"| {api} | " + " | ".join(cells) + " |")
    total = len(apis) * len(known)
    lines += ["", f"{short} of {total} (config, API) pairs have fewer than {minimum} examples." if short
              else f"Every API of every config has at least {minimum} examples."]
    return "\n".join(lines) + "\n"
