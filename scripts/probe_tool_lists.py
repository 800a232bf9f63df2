"""python -m scripts.probe_tool_lists CONFIG [--split dev] [--mode finetuned]

Does a trained student read its tool list, or call a name it trained on? Scores CONFIG's student on the gold
items of its explored APIs (the dev split by default: a probe, not a result) with three lists in the prompt:

- evaluation: every explored API, as the evaluate stage lists them;
- trained names: the item's API between two other explored APIs (names the student trained to call);
- new names: the item's API between two tools no config explores (drawn per item).

A student that reads the list does about as well on both three-tool lists; one that calls the name it knows is
right beside new names and lost beside trained ones. Prints API match and Correct per list. Reads params.yaml,
data/testset and models/CONFIG (run it after the config's evaluate stage).
"""
from __future__ import annotations

import argparse
import random

from ste.config.params import load_params
from ste.core.tools import build_registry
from ste.core.weights import student_model
from ste.evaluate.evaluate import predict
from ste.paraphrase.export import distractor_pool
from tasks.evaluate import selections


def three_tool_lists(api: str, item_id: str, explored: list[str], others: list[str]) -> dict[str, list[str]]:
    """The probe's two short lists for one item: its API between two explored APIs, or two unexplored tools."""
    trained = [a for a in explored if a != api]
    i = explored.index(api) % len(trained)
    new = random.Random(f"probe|{item_id}").sample(others, 2)
    return {"trained names": [trained[i], api, trained[(i + 1) % len(trained)]],
            "new names": [new[0], api, new[1]]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("config")
    parser.add_argument("--split", default="dev", choices=["dev", "test"])
    parser.add_argument("--mode", default="finetuned", choices=["finetuned", "sft+dpo"])
    args = parser.parse_args(argv)

    params = load_params()
    params = params.model_copy(update={"evaluate": params.evaluate.model_copy(update={"split": args.split})})
    registry = build_registry(params.tools)
    (explored, items), (unseen, _) = selections(params, registry, "data/testset", args.config)
    others = [a for a in distractor_pool(registry, unseen) if a not in explored]
    model = student_model(params.llm, args.mode, f"models/{args.config}/adapter", f"models/{args.config}/dpo/adapter")

    def score(lists: list[list[str]]) -> tuple[int, int]:
        rows = [predict(model, registry, [item], listed, args.mode, execute=False,
                        max_new_tokens=params.evaluate.max_new_tokens)[0]
                for item, listed in zip(items, lists)]
        return sum(r["api_match"] for r in rows), sum(r["correct"] for r in rows)

    short = [three_tool_lists(item.api, item.id, explored, others) for item in items]
    print(f"{args.config} {args.mode}, {len(items)} {args.split} items: API match, Correct")
    for name, lists in [("evaluation", [explored] * len(items)),
                        *((kind, [s[kind] for s in short]) for kind in ("trained names", "new names"))]:
        match, correct = score(lists)
        print(f"- {name} ({len(lists[0])} tools): {match}/{len(items)}, {correct}/{len(items)}")


if __name__ == "__main__":
    main()
