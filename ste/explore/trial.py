"""One simulated trial: imagine a query, act in ReAct form with real calls, reflect.

Every prompt is rebuilt from recorded Trial objects and every Decoding.seed is derived from
(settings.seed, api, episode, trial, step), so a resumed or reordered run sends byte-identical
requests and the LLM call cache replays them.
"""
from __future__ import annotations

import asyncio
import hashlib
import random
from dataclasses import dataclass
from typing import Any

from ste.config.explore import ExploreSettings
from ste.core.llm.base import ChatModel, Completion, Decoding, Message
from ste.core.react import parse_json_object, parse_step
from ste.core.schemas import Trial, Turn
from ste.core.text import value_literals
from ste.core.tools.base import Registry
from ste.explore import arguments as argsrc
from ste.explore import prompts as P
from ste.explore.queries import check_query, clean_query

ACT_STOP = ("Observation:",)
IMAGINE_STOP = ("Thought:",)


def derive_seed(seed: int, api: str, episode: int, index: int, step: str) -> int:
    """A sampling seed that depends only on where the call sits in the run, never on timing."""
    digest = hashlib.sha256(f"{seed}|{api}|{episode}|{index}|{step}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def resolve_mode(imagination: str, local_explorer: bool) -> str:
    """`auto` means call-first for a (weak) local explorer, the paper's query-first otherwise."""
    if imagination == "auto":
        return "call_first" if local_explorer else "query_first"
    return imagination


@dataclass
class Explorer:
    """What a trial needs: tools, model, settings, the resolved imagination mode, constraints on or off."""

    registry: Registry
    model: ChatModel
    settings: ExploreSettings
    mode: str = "query_first"
    constrained: bool = False

    def constraint(self, kind: str, api: str, literals: tuple[str, ...] = ()) -> str | None:
        """A regex for structured decoding, or None when constraints are off.

        `literals` are values a one-line reply must contain (the question of a call-first trial).
        """
        if not self.constrained:
            return None
        from ste.core.llm import constraints as C  # lazy: it pulls in the structured-decoding stack

        schema = self.registry.get(api).parameters
        if kind == "act":
            return C.react_call_regex([api], {api: schema})
        if kind == "act_or_final":
            return rf"(?:{C.react_call_regex([api], {api: schema})})|(?:Thought: [^\n]+\nFinal Answer: [^\n]+)"
        if kind == "arguments":
            return C.json_object_regex(schema)
        if kind == "final":
            return r"Thought: [^\n]+\nFinal Answer: [^\n]+"
        if kind == "reflect":
            return C.choice_regex(["Yes", "No"])
        if kind == "question":
            return C.question_regex(list(literals))
        return r"[^\n]+"  # one line; bounded repeats compile far too slowly, max_tokens bounds it


class _TrialRun:
    """The state of one trial while it runs; everything it sends is derived from `self.trial`."""

    def __init__(self, ex: Explorer, api: str, episode: int, index: int, history: list[Trial]):
        self.ex, self.api, self.s = ex, api, ex.settings
        self.tool = ex.registry.get(api)
        self.history = [t for t in history if t.api == api]
        self.earlier = [t for t in self.history if P.is_valid(t)]
        stm = [t for t in self.history if t.episode == episode] if self.s.stm else []
        self.base = P.context(self.tool, stm, self.s.exec_feedback)
        self.first = len(self.base) == 1
        self.trial = Trial(id=f"{api}/e{episode}/t{index}", api=api, episode=episode, index=index, query="")

    async def chat(self, messages: list[Message], step: str, kind: str, stop=(), max_tokens=None,
                   literals: tuple[str, ...] = ()) -> Completion:
        t = self.trial
        constraint = self.ex.constraint(kind, self.api, literals)
        decoding = Decoding(
            max_tokens=max_tokens or self.s.max_new_tokens, temperature=self.s.temperature, stop=tuple(stop),
            seed=derive_seed(self.s.seed, self.api, t.episode, t.index, step), constraint=constraint,
            # a served model's server may take the schema itself rather than its regex
            json_schema=self.tool.parameters if constraint and kind == "arguments" else None,
        )
        c = await self.ex.model.achat(messages, decoding)
        t.prompt_tokens += c.prompt_tokens
        t.completion_tokens += c.completion_tokens
        t.llm_retries += c.retries
        return c

    async def call(self, arguments: Any):
        return await asyncio.to_thread(self.ex.registry.call, self.api, arguments)

    # -------------------------------------------------------------- imagine
    def ltm(self, with_arguments: bool) -> str:
        return P.ltm_block(self.earlier, with_arguments) if self.s.ltm else ""

    def extras(self, rejected: list[dict], with_arguments: bool) -> tuple[str, ...]:
        """The one-off parts of an imagine step: query seeds, long-term memory, rejected attempts."""
        seeds = P.seeds_block(self.tool.examples) if self.s.query_seeds else ""
        return seeds, self.ltm(with_arguments), P.rejected_block(rejected)

    def check(self, query: str, arguments: dict | None = None) -> str | None:
        return check_query(query, api=self.api, max_chars=self.s.max_query_chars, seeds=self.tool.examples,
                           earlier=[t.query for t in self.earlier],
                           arguments=arguments if self.s.values_in_query else None)

    async def imagine_query_first(self) -> dict:
        rejected: list[dict] = []
        for k in range(self.s.max_reimagine + 1):
            msg = P.imagine_message(self.first, extras=self.extras(rejected, False))
            c = await self.chat(self.base + [msg], f"imagine/{k}", "query", IMAGINE_STOP,
                                max_tokens=self.s.max_query_tokens)
            query = clean_query(c.text)
            reason = self.check(query)
            if reason is None:
                self.trial.query = query
                return {"mode": "query_first", "valid": True, "attempts": k + 1, "rejected": rejected}
            rejected.append({"query": query, "reason": reason})
        return {"mode": "query_first", "valid": False, "attempts": self.s.max_reimagine + 1, "rejected": rejected}

    async def imagine_call_first(self) -> dict:
        t = self.trial
        rng = random.Random(derive_seed(self.s.seed, self.api, t.episode, t.index, "sources"))
        offset = derive_seed(self.s.seed, self.api, 0, 0, "source-offset") % len(argsrc.SOURCES)
        order = argsrc.source_order(offset, t.episode * self.s.trials_per_episode + t.index)
        rejected: list[dict] = []
        call: dict | None = None
        for k in range(self.s.max_reimagine + 1):
            if call is None:
                source = order[k % len(order)]
                arguments, source = await self.choose_arguments(source, k, rng)
                if arguments is None:
                    rejected.append({"reason": "bad_arguments", "source": source})
                    continue
                if P.dumps(arguments) in self.tried():
                    rejected.append({"reason": "repeated_call", "source": source, "arguments": arguments})
                    continue
                result = await self.call(arguments)
                if not result.ok:
                    rejected.append({"reason": "call_failed", "source": source, "arguments": arguments,
                                     "status": result.status})
                    continue
                call = {"source": source, "arguments": arguments, "status": result.status,
                        "observation": result.observation}
            msg = P.question_message(self.api, call["arguments"], extras=self.extras(rejected, True))
            literals = tuple(value_literals(call["arguments"])) if self.s.values_in_query else ()
            # The worked examples come after the episode's context (short-term memory), not before it: the
            # context then stays a prefix that this trial's act steps share, so a local model reuses its states.
            messages = self.base + list(P.question_examples()) + [msg]
            c = await self.chat(messages, f"question/{k}", "question", IMAGINE_STOP, literals=literals,
                                max_tokens=self.s.max_query_tokens)
            query = clean_query(c.text)
            reason = self.check(query, call["arguments"])
            if reason is None:
                t.query = query
                return {"mode": "call_first", "valid": True, "attempts": k + 1, "rejected": rejected,
                        "seed_call": call}
            rejected.append({"query": query, "reason": reason, "arguments": call["arguments"]})
        return {"mode": "call_first", "valid": False, "attempts": self.s.max_reimagine + 1, "rejected": rejected,
                "seed_call": call}

    def tried(self) -> set[str]:
        """The seed calls of earlier trials of this API (as sorted JSON); empty without long-term memory."""
        return {P.dumps(t.imagination["seed_call"]["arguments"]) for t in self.history
                if self.s.ltm and t.imagination.get("seed_call")}

    async def choose_arguments(self, source: str, k: int, rng: random.Random) -> tuple[dict | None, str]:
        """Arguments from `source`, else from the explorer.

        With long-term memory on, arguments an earlier trial of this API already used are not drawn again
        (memory's job in call-first: new trials vary the arguments).
        """
        schema = self.tool.parameters
        from_schema = argsrc.schema_values(schema)
        tried = self.tried()
        if source == "observed" and self.s.exec_feedback:  # without feedback, results must not steer the run
            seen = argsrc.observed_values(schema, self.earlier)
            if any(seen.values()):
                picked = argsrc.pick_new(schema, seen, from_schema, rng, tried)
                if picked is not None:
                    return picked, "observed"
        if source == "schema":
            picked = argsrc.pick_new(schema, from_schema, {}, rng, tried)
            if picked is not None:
                return picked, "schema"
        msg = P.arguments_message(self.api, extras=(self.ltm(True),))
        c = await self.chat(self.base + [msg], f"arguments/{k}", "arguments")
        arguments, _ = parse_json_object(c.text)
        return arguments, "generated"

    # -------------------------------------------------------------- act and reflect
    async def act(self) -> None:
        t, max_calls = self.trial, self.s.max_calls
        # Parse errors cost no call, but a reply that never parses must still end the trial.
        while t.n_calls < max_calls and len(t.turns) < 2 * max_calls:
            msgs = self.base + P.replay(t, self.first, self.s.exec_feedback)
            kind = "act" if t.n_calls == 0 else "act_or_final"
            c = await self.chat(msgs, f"act/{len(t.turns)}", kind, ACT_STOP)
            step = parse_step(c.text, [self.api])
            if step.is_final:
                t.turns.append(Turn(raw=c.text, thought=step.thought, final_answer=step.final_answer))
                t.final_answer = step.final_answer
                return
            if step.error:
                t.parse_errors += 1
                t.turns.append(Turn(raw=c.text, thought=step.thought, action=step.action,
                                    action_input=step.action_input, parse_error=step.error, observation=step.error))
                continue
            result = await self.call(step.action_input)
            t.n_calls += 1
            t.turns.append(Turn(raw=c.text, thought=step.thought, action=step.action, action_input=step.action_input,
                                observation=result.observation, status=result.status))
        if t.turns and t.turns[-1].status == "ok":
            await self.final_answer()

    async def final_answer(self) -> None:
        """The budget bounds calls, not the answer: after a successful last call, ask for the final answer once."""
        t = self.trial
        msgs = self.base + P.replay(t, self.first, self.s.exec_feedback)
        c = await self.chat(msgs, f"act/{len(t.turns)}", "final", ACT_STOP)
        step = parse_step(c.text, [self.api])
        if step.is_final:
            t.turns.append(Turn(raw=c.text, thought=step.thought, final_answer=step.final_answer))
            t.final_answer = step.final_answer

    async def reflect(self) -> None:
        t = self.trial
        if t.final_answer is None:  # nothing to judge: the trial did not finish
            t.solved = False
            return
        msgs = self.base + P.replay(t, self.first, self.s.exec_feedback) + [P.reflect_message()]
        c = await self.chat(msgs, "reflect", "reflect", ("\n",), max_tokens=8)
        t.reflection_raw = c.text
        t.solved = c.text.strip().strip("*").lower().startswith("yes")


async def run_trial(ex: Explorer, api: str, episode: int, index: int, history: list[Trial]) -> Trial:
    """Run one trial of `api`.

    Args:
        ex: the explorer (registry, model, settings, mode).
        api: the API explored.
        episode: the episode number (0-based).
        index: the trial number inside the episode (0-based).
        history: every earlier trial of this API, in (episode, index) order; the only memory there is.

    Returns:
        The finished Trial record.
    """
    run = _TrialRun(ex, api, episode, index, history)
    imagine = run.imagine_call_first if ex.mode == "call_first" else run.imagine_query_first
    run.trial.imagination = await imagine()
    if run.trial.imagination["valid"]:
        await run.act()
        if ex.settings.reflection:
            await run.reflect()
    return run.trial
