"""The exploration stage with a scripted explorer and small real tools."""
from __future__ import annotations

import asyncio
import json
import logging
import random

import pytest

from ste.config.explore import ExploreSettings
from ste.core.errors import DataError
from ste.core.io import read_jsonl
from ste.core.prompts import load_prompt
from ste.core.schemas import Trial
from ste.core.text import near_duplicate
from ste.core.tools.base import Registry, Tool
from ste.explore import arguments as argsrc
from ste.explore.prompts import HIDDEN_RESULT, question_examples
from ste.explore.prompts import TEMPLATES
from ste.explore.queries import check_query, clean_query
from ste.explore.runner import finish_run, run_explore, run_explore_api, start_run
from ste.explore.runner import part_path
from ste.explore.trial import derive_seed, resolve_mode
from ste.explore.trial import ACT_STOP, IMAGINE_STOP
from tests.fakes import ScriptedChatModel

SECRET = "zebra-7731"  # appears only in the dictionary tool's results


def _tools(log: list | None = None) -> list[Tool]:
    def add(a, b):
        if log is not None:
            log.append(("call", "add_numbers", {"a": a, "b": b}))
        return {"sum": a + b, "a": a + 100}

    def define(word):
        if log is not None:
            log.append(("call", "define_word", {"word": word}))
        return {"word": word, "meaning": f"{word}: {SECRET}"}

    return [
        Tool("add_numbers", "Adds two numbers.", "math",
             {"type": "object", "properties": {"a": {"type": "number", "examples": [2, 40]},
                                               "b": {"type": "number", "examples": [3]}},
              "required": ["a", "b"]},
             add, ["I have 12 apples and buy 30 more; how many do I have?"]),
        Tool("define_word", "Looks up a word in a small dictionary.", "language",
             {"type": "object", "properties": {"word": {"type": "string", "enum": ["apple", "river", "cloud"]}},
              "required": ["word"]},
             define, ["What does the word river mean?"]),
    ]


CALLS = {"add_numbers": '{"a": 2, "b": 3}', "define_word": '{"word": "river"}'}


def _api(messages) -> str:
    return "add_numbers" if "add_numbers:" in messages[0]["content"] else "define_word"


def responder(messages, d):
    """A well-behaved explorer: one call, then a final answer; queries unique per seed."""
    api = _api(messages)
    if d.stop == ACT_STOP:
        if messages[-1]["content"].startswith("Observation"):
            return "Thought: I now know the final answer\nFinal Answer: done"
        return f"Thought: call it\nAction: {api}\nAction Input: {CALLS[api]}\nObservation: made up"
    if d.stop == IMAGINE_STOP:
        topic = "sums" if api == "add_numbers" else "words"
        prompt = messages[-1]["content"]
        if "was called with " in prompt:  # call-first: state the call's values
            arguments = call_in(prompt)
            topic = " and ".join(str(v) for v in arguments.values())
        return f"User Query: Tell me about case {d.seed % 100000} for {topic}"
    if d.stop == ("\n",):
        return "Yes"
    return CALLS[api]  # arguments step of call-first


def call_in(prompt: str) -> dict:
    """The arguments a call-first question prompt shows."""
    return json.loads(prompt.split("was called with ", 1)[1].split("\n", 1)[0])


def settings(**kw) -> ExploreSettings:
    base = dict(apis=["add_numbers"], episodes=1, trials_per_episode=2, max_calls=2, imagination="query_first")
    return ExploreSettings(**{**base, **kw})


def run(tmp_path, reply=responder, log=None, name="out", model=None, **kw):
    model = model or ScriptedChatModel(reply)
    summary = run_explore(Registry(_tools(log)), model, settings(**kw), tmp_path / name, concurrency=2,
                          local_explorer=False, progress=False)
    trials = read_jsonl(tmp_path / name / "trials.jsonl", Trial)
    return trials, model, summary


def texts(requests) -> list[str]:
    return ["\n".join(m["content"] for m in msgs) for msgs, _ in requests]


def of_kind(model, stop) -> list:
    return [(msgs, d) for msgs, d in model.requests if d.stop == stop]


# ------------------------------------------------------------------ memory settings
def test_stm_on_later_trials_see_earlier_ones_in_full(tmp_path):
    trials, model, _ = run(tmp_path, stm=True, ltm=False)
    first, second = trials
    imagine = of_kind(model, IMAGINE_STOP)
    assert len(imagine) == 2
    later = "\n".join(m["content"] for m in imagine[1][0])
    assert first.query in later and first.turns[0].observation in later and "Final Answer: done" in later
    assert load_prompt(TEMPLATES, "imagine_next") in later  # follow-up trials ask to explore further
    assert first.query not in "\n".join(texts([imagine[0]]))


def test_stm_off_each_trial_starts_fresh_and_new_episode_resets(tmp_path):
    trials, model, _ = run(tmp_path, stm=False, ltm=False)
    assert all(trials[0].query not in t for t in texts(model.requests[len(model.requests) // 2:]))
    trials, model, _ = run(tmp_path, name="ep", stm=True, ltm=False, episodes=2, trials_per_episode=1)
    imagine = texts(of_kind(model, IMAGINE_STOP))
    assert trials[0].query not in imagine[1] and load_prompt(TEMPLATES, "imagine") in imagine[1]


def test_ltm_shows_earlier_queries_with_flags_only_when_imagining(tmp_path):
    trials, model, _ = run(tmp_path, stm=False, ltm=True, episodes=2, trials_per_episode=1)
    line = f"Query: {trials[0].query} | Solved: Yes"
    imagine = texts(of_kind(model, IMAGINE_STOP))
    assert line in imagine[1] and line not in imagine[0]
    others = [t for (msgs, d), t in zip(model.requests, texts(model.requests)) if d.stop != IMAGINE_STOP]
    assert others and all(trials[0].query not in t for t in others[len(others) // 2:])
    _, model, _ = run(tmp_path, name="off", stm=False, ltm=False, episodes=2, trials_per_episode=1)
    assert all("Solved:" not in t for t in texts(model.requests))


def test_exec_feedback_off_hides_every_result_but_records_it(tmp_path):
    trials, model, _ = run(tmp_path, apis=["define_word"], exec_feedback=False, trials_per_episode=3)
    assert all(SECRET not in t for t in texts(model.requests))
    assert any(HIDDEN_RESULT in t for t in texts(model.requests))
    assert SECRET in trials[0].turns[0].observation and trials[0].turns[0].status == "ok"
    trials, model, _ = run(tmp_path, name="cf", apis=["define_word"], exec_feedback=False,
                           imagination="call_first", trials_per_episode=3)
    assert all(SECRET not in t for t in texts(model.requests))
    assert SECRET in trials[0].imagination["seed_call"]["observation"]
    assert all(t.imagination["seed_call"]["source"] != "observed" for t in trials)


def test_reflection_off_makes_no_call_and_leaves_solved_unset(tmp_path):
    trials, model, summary = run(tmp_path, reflection=False)
    assert of_kind(model, ("\n",)) == [] and all(t.solved is None and t.reflection_raw is None for t in trials)
    assert summary["solved_rate"] is None
    trials, model, _ = run(tmp_path, name="on", reflection=True)
    assert len(of_kind(model, ("\n",))) == 2 and all(t.solved is True for t in trials)


# ------------------------------------------------------------------ acting
def test_call_budget_ends_a_trial_that_never_answers(tmp_path):
    def stubborn(messages, d):
        if d.stop == ACT_STOP:
            return 'Action: add_numbers\nAction Input: {"a": 1, "b": 1}'
        return responder(messages, d)

    trials, model, summary = run(tmp_path, stubborn, max_calls=3, trials_per_episode=1)
    (t,) = trials
    assert t.n_calls == 3 and len(t.turns) == 3 and t.final_answer is None
    assert t.solved is False and of_kind(model, ("\n",)) == []  # nothing to reflect on
    assert summary["calls"] == 3 and summary["call_statuses"] == {"ok": 3}


def test_parse_errors_are_fed_back_and_do_not_cost_calls(tmp_path):
    def sloppy(messages, d):
        if d.stop == ACT_STOP and messages[-1]["content"].startswith("Now fulfil"):
            return "Action: adder\nAction Input: {}"
        if d.stop == ACT_STOP and "not an available API" in messages[-1]["content"]:
            return f"Action: add_numbers\nAction Input: {CALLS['add_numbers']}"
        return responder(messages, d)

    trials, model, summary = run(tmp_path, sloppy, trials_per_episode=1)
    (t,) = trials
    assert t.parse_errors == 1 and t.turns[0].status is None and "'adder' is not an available API" in t.turns[0].parse_error
    act = of_kind(model, ACT_STOP)
    assert act[1][0][-1]["content"] == f"Observation: {t.turns[0].parse_error}"
    assert t.n_calls == 1 and t.final_answer == "done" and len(t.turns) == 3
    assert summary["parse_error_rate"] == round(1 / 3, 4)


def test_invalid_arguments_come_back_as_observations(tmp_path):
    def wrong(messages, d):
        if d.stop == ACT_STOP and messages[-1]["content"].startswith("Now fulfil"):
            return 'Action: add_numbers\nAction Input: {"a": "two"}'
        return responder(messages, d)

    trials, model, summary = run(tmp_path, wrong, trials_per_episode=1)
    assert trials[0].turns[0].status == "invalid_args"
    assert of_kind(model, ACT_STOP)[1][0][-1]["content"].startswith("Observation: Error: invalid arguments")
    assert summary["call_statuses"] == {"invalid_args": 1} and summary["ok_call_rate"] == 0.0


# ------------------------------------------------------------------ call-first imagination
def test_call_first_executes_the_call_before_asking_for_the_question(tmp_path):
    events: list = []

    def tracking(messages, d):
        if d.stop == IMAGINE_STOP:
            events.append(("question", messages[-1]["content"]))
        return responder(messages, d)

    trials, model, _ = run(tmp_path, tracking, log=events, apis=["define_word"], imagination="call_first",
                           trials_per_episode=1)
    (t,) = trials
    call = t.imagination["seed_call"]
    assert events[0] == ("call", "define_word", call["arguments"]) and events[1][0] == "question"
    assert call["arguments"]["word"] in events[1][1] and load_prompt(TEMPLATES, "imagine") not in events[1][1]
    question = next(m for m, d in model.requests if d.stop == IMAGINE_STOP)
    assert question[1:-1] == list(question_examples())  # worked examples on made-up APIs come first
    assert "Where is my parcel ZX81Q right now?" in [m["content"] for m in question]
    assert t.imagination["mode"] == "call_first" and t.turns[-1].final_answer == "done"


def test_call_first_questions_keep_the_episode_context_as_a_prefix_of_the_act_steps(tmp_path):
    """The worked examples sit after short-term memory: question and act prompts of a trial share the context."""
    _, model, _ = run(tmp_path, apis=["define_word"], imagination="call_first", trials_per_episode=2)
    questions = [m for m, d in model.requests if d.stop == IMAGINE_STOP]
    acts = [m for m, d in model.requests if d.stop == ACT_STOP]
    second, last_act = questions[-1], acts[-1]
    context = len(second) - len(question_examples()) - 1  # system + the first trial, replayed
    assert context > 1 and second[context:-1] == list(question_examples())
    assert last_act[:context] == second[:context]


def test_call_first_varies_argument_sources_deterministically(tmp_path):
    trials, model, _ = run(tmp_path, imagination="call_first", episodes=2, trials_per_episode=3)
    sources = [t.imagination["seed_call"]["source"] for t in trials]
    assert set(sources) == {"schema", "observed", "generated"}
    assert [t.imagination["seed_call"]["source"] for t in run(tmp_path, name="again", imagination="call_first",
                                                              episodes=2, trials_per_episode=3)[0]] == sources
    # generated arguments came from a request that listed earlier queries with their arguments (LTM)
    args_requests = [msgs for msgs, d in model.requests if d.stop == ()]
    assert args_requests and any("| Arguments: {" in m[-1]["content"] for m in args_requests)


def test_argument_sources_read_schema_and_observed_values():
    add = _tools()[0].parameters
    assert argsrc.schema_values(add) == {"a": [2, 40], "b": [3]}
    turn = {"raw": "", "action": "add_numbers", "action_input": {"a": 9, "b": 1}, "observation": '{"a": 77, "x": 1}',
            "status": "ok"}
    bad = {**turn, "action_input": {"a": 5, "b": 5}, "observation": "{", "status": "invalid_args"}
    earlier = [Trial(id="x", api="add_numbers", episode=0, index=0, query="q", turns=[turn, bad])]
    assert argsrc.observed_values(add, earlier) == {"a": [9, 77], "b": [1]}
    assert argsrc.pick({"properties": {"w": {}}, "required": ["w"]}, {}, {}, random.Random(0)) is None
    assert argsrc.source_order(1, 0) == ["observed", "generated", "schema"]
    tried = {json.dumps({"a": 2, "b": 3}, sort_keys=True)}
    assert argsrc.pick_new(add, argsrc.schema_values(add), {}, random.Random(0), tried) == {"a": 40, "b": 3}
    tried.add(json.dumps({"a": 40, "b": 3}, sort_keys=True))
    assert argsrc.pick_new(add, argsrc.schema_values(add), {}, random.Random(0), tried) is None  # all used


def test_call_first_does_not_repeat_a_call_while_long_term_memory_is_on(tmp_path):
    trials, _, _ = run(tmp_path, apis=["define_word"], imagination="call_first", trials_per_episode=3)
    calls = [json.dumps(t.imagination["seed_call"]["arguments"]) for t in trials]
    assert len(set(calls)) == 3  # apple, river, cloud: the enum offers exactly three
    trials, _, _ = run(tmp_path, name="no_ltm", apis=["define_word"], imagination="call_first",
                       trials_per_episode=3, ltm=False)
    assert len({json.dumps(t.imagination["seed_call"]["arguments"]) for t in trials}) < 3


# ------------------------------------------------------------------ query checks
def test_check_query_reasons():
    kw = dict(api="add_numbers", max_chars=40, seeds=["What does the word river mean?"], earlier=["Add 5 and 6 please"])
    assert check_query("  ", **kw) == "empty"
    assert check_query("x" * 41, **kw) == "too_long"
    assert check_query("Use ADD_NUMBERS on 3 and 4", **kw) == "names_api"
    assert check_query("what does the word 'river' mean", **kw) == "copies_seed"
    assert check_query("please add 5 and 6", **kw) == "duplicate"
    assert check_query("Add 7 and 6 please", **kw) is None  # other numbers: a new query
    assert check_query("weather in Paris", **{**kw, "api": "weather"}) is None  # a plain word is not a name
    call = {"value": 13.1, "from_unit": "mile", "to_unit": "kilometer"}
    assert check_query("How far is 13.1 miles?", **kw, arguments=call) == "missing_value"
    assert check_query("How many kilometers are 13.1 miles?", **kw, arguments=call) is None
    assert near_duplicate("What's the time in Paris?", "whats the time in paris")
    assert near_duplicate("Convert 1,000 miles to km", "convert 1000 miles to km.")  # one normaliser: 1,000 = 1000
    assert not near_duplicate("Convert 2.5 miles to km", "Convert 25 miles to km")  # 2.5 is one number, not 2 and 5
    assert clean_query('User Query: "How far is it?"\n\nThought: x') == "How far is it?"


def test_rejected_queries_are_reimagined_and_counted(tmp_path):
    replies = iter(["What does the word river mean?", "What does define_word say about clouds?",
                    "Explain the word cloud to a child"])

    def picky(messages, d):
        return next(replies) if d.stop == IMAGINE_STOP else responder(messages, d)

    trials, model, summary = run(tmp_path, picky, apis=["define_word"], trials_per_episode=1)
    (t,) = trials
    assert [r["reason"] for r in t.imagination["rejected"]] == ["copies_seed", "names_api"]
    assert t.imagination["attempts"] == 3 and t.query == "Explain the word cloud to a child"
    last_imagine = of_kind(model, IMAGINE_STOP)[-1][0][-1]["content"]
    assert "define_word say about clouds" in last_imagine and "named the API" in last_imagine
    assert summary["rejected_queries"] == {"copies_seed": 1, "names_api": 1}

    def hopeless(messages, d):
        return "" if d.stop == IMAGINE_STOP else responder(messages, d)

    trials, model, summary = run(tmp_path, hopeless, name="h", max_reimagine=2, trials_per_episode=1)
    assert trials[0].imagination["valid"] is False and trials[0].turns == [] and not of_kind(model, ACT_STOP)
    assert summary["no_valid_query"] == 1 and summary["rejected_queries"] == {"empty": 3}


def test_call_first_question_missing_a_value_is_asked_again(tmp_path):
    def vague_once(messages, d):
        if d.stop == IMAGINE_STOP and "left out an argument value" not in messages[-1]["content"]:
            return "Tell me about some word"
        return responder(messages, d)

    trials, _, summary = run(tmp_path, vague_once, apis=["define_word"], imagination="call_first",
                             trials_per_episode=1)
    (t,) = trials
    assert [r["reason"] for r in t.imagination["rejected"]] == ["missing_value"]
    assert t.imagination["seed_call"]["arguments"]["word"] in t.query
    assert summary["rejected_queries"] == {"missing_value": 1}
    trials, _, _ = run(tmp_path, vague_once, name="off", apis=["define_word"], imagination="call_first",
                       trials_per_episode=1, values_in_query=False)
    assert trials[0].query == "Tell me about some word"  # the check can be switched off


# ------------------------------------------------------------------ determinism and resume
def test_seeds_depend_only_on_position():
    assert derive_seed(0, "a", 1, 2, "act/0") == derive_seed(0, "a", 1, 2, "act/0")
    assert len({derive_seed(0, "a", 1, 2, s) for s in ("act/0", "act/1", "imagine/0", "reflect")}) == 4
    assert derive_seed(1, "a", 1, 2, "act/0") != derive_seed(0, "a", 1, 2, "act/0")
    assert resolve_mode("auto", True) == "call_first" and resolve_mode("auto", False) == "query_first"


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("mode", ["query_first", "call_first"])
def test_resume_after_interruption_gives_the_same_trials(tmp_path, mode):
    kw = dict(apis=["add_numbers", "define_word"], episodes=2, trials_per_episode=2, imagination=mode)
    full, ref_model, _ = run(tmp_path, name="ref", **kw)
    reference = _lines(tmp_path / "ref" / "trials.jsonl")
    assert len(reference) == 8 and len({r["id"] for r in reference}) == 8

    # An interrupted run: 3 trials finished (appended in completion order), the 4th torn mid-line.
    path = tmp_path / "cut" / "trials.jsonl"
    run(tmp_path, name="cut", **kw)
    lines = path.read_text().splitlines(keepends=True)
    order = [1, 4, 0, 5]  # interleaved APIs, as concurrent runs append them
    path.write_text("".join(lines[i] for i in order[:3]) + lines[order[3]][:40])
    trials, model, summary = run(tmp_path, name="cut", **kw)
    assert _lines(path) == reference and summary["resumed_trials"] == 3
    # Every request of the resumed run was also made, byte for byte, by the uninterrupted run.
    seen = {json.dumps([msgs, repr(d)]) for msgs, d in ref_model.requests}
    assert model.requests and all(json.dumps([msgs, repr(d)]) in seen for msgs, d in model.requests)
    assert len(model.requests) < len(ref_model.requests)


def test_changed_settings_start_fresh(tmp_path, caplog):
    run(tmp_path, seed=0)
    with caplog.at_level(logging.WARNING, logger="ste.explore.runner"):
        trials, model, summary = run(tmp_path, seed=1)
    assert "starting fresh" in caplog.text and summary["resumed_trials"] == 0
    assert len(trials) == 2 and len(of_kind(model, IMAGINE_STOP)) == 2
    assert all(d.seed == derive_seed(1, "add_numbers", 0, 0, "imagine/0") for _, d in of_kind(model, IMAGINE_STOP)[:1])
    _, again, summary = run(tmp_path, seed=1)  # same settings: nothing left to do
    assert again.requests == [] and summary["resumed_trials"] == 2 and summary["trials"] == 2


class SlowModel(ScriptedChatModel):
    """Replies after a short sleep and records how many requests were in flight at once."""

    def __init__(self, replies):
        super().__init__(replies)
        self.in_flight = self.peak = 0

    async def achat(self, messages, decoding):
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        await asyncio.sleep(0.01)
        self.in_flight -= 1
        return await super().achat(messages, decoding)


@pytest.mark.parametrize("concurrency,peak", [(1, 1), (2, 2)])
def test_apis_run_concurrently_up_to_the_limit(tmp_path, concurrency, peak):
    model = SlowModel(responder)
    run_explore(Registry(_tools()), model, settings(apis=["add_numbers", "define_word"]), tmp_path,
                concurrency=concurrency, local_explorer=False, progress=False)
    assert model.peak == peak
    assert [t.api for t in read_jsonl(tmp_path / "trials.jsonl", Trial)] == ["add_numbers"] * 2 + ["define_word"] * 2


def test_constraints_are_requested_per_step_when_on(tmp_path, monkeypatch):
    import sys
    import types

    fake = types.SimpleNamespace(
        react_call_regex=lambda names, schemas: f"CALL{names}{sorted(schemas)}",
        json_object_regex=lambda schema: f"JSON{sorted(schema['properties'])}",
        choice_regex=lambda options: f"CHOICE{options}",
        question_regex=lambda literals: f"QUESTION{literals}",
    )
    monkeypatch.setitem(sys.modules, "ste.core.llm.constraints", fake)
    monkeypatch.setattr("ste.core.llm.constraints", fake, raising=False)
    model = ScriptedChatModel(responder)
    run_explore(Registry(_tools()), model, settings(imagination="call_first", trials_per_episode=3), tmp_path,
                concurrency=1, local_explorer=True, progress=False)
    by_stop = {}
    for _, d in model.requests:
        by_stop.setdefault(d.stop, set()).add(d.constraint)
    assert by_stop[("\n",)] == {"CHOICE['Yes', 'No']"}
    assert by_stop[()] == {"JSON['a', 'b']"}  # generated arguments fit the schema
    schemas = {d.constraint: d.json_schema for _, d in model.requests}  # and a server may take the schema itself
    assert schemas.pop("JSON['a', 'b']") == Registry(_tools()).get("add_numbers").parameters
    assert set(schemas.values()) == {None}
    assert "CALL['add_numbers']['add_numbers']" in by_stop[ACT_STOP]
    assert any(c.startswith("(?:CALL") and "Final Answer" in c for c in by_stop[ACT_STOP])
    # the call-first question is one line that must state the call's values
    questions = [(m[-1]["content"], d.constraint) for m, d in model.requests if d.stop == IMAGINE_STOP]
    assert len(questions) == 3
    for prompt, constraint in questions:
        arguments = call_in(prompt)
        assert constraint == f"QUESTION{[str(arguments['a']), str(arguments['b'])]}"
    _, plain, _ = run(tmp_path, name="off")  # an OpenAI explorer: no constraints unless asked for
    assert {d.constraint for _, d in plain.requests} == {None}


# ------------------------------------------------------------------ one API at a time (what a task runner spreads out)
def _split(tmp_path, kw, apis_order, name="split") -> tuple:
    """start_run, then each API on its own (own model, as in another process), then finish_run."""
    out = tmp_path / name
    plan = start_run(Registry(_tools()), ScriptedChatModel(responder), settings(**kw), out, local_explorer=False)
    for api in apis_order:
        assert run_explore_api(Registry(_tools()), ScriptedChatModel(responder), plan, api) == 2 * kw["episodes"]
    return plan, finish_run(plan), out


def test_apis_explored_separately_merge_into_the_same_file(tmp_path):
    kw = dict(apis=["add_numbers", "define_word"], episodes=2, trials_per_episode=2)
    run(tmp_path, name="ref", **kw)
    _, summary, out = _split(tmp_path, kw, ["define_word", "add_numbers"])  # the reverse order of the selection
    assert _lines(out / "trials.jsonl") == _lines(tmp_path / "ref" / "trials.jsonl")
    assert summary["trials"] == 8 and not (out / "parts").exists()


def test_an_unfinished_api_stops_the_merge_and_resumes_from_its_part(tmp_path):
    s = settings(apis=["add_numbers", "define_word"])
    plan = start_run(Registry(_tools()), ScriptedChatModel(responder), s, tmp_path, local_explorer=False)
    run_explore_api(Registry(_tools()), ScriptedChatModel(responder), plan, "add_numbers")
    with pytest.raises(DataError, match=r"define_word \(0/2\); run the stage again"):
        finish_run(plan)
    part = part_path(tmp_path, "add_numbers")
    first = part.read_text().splitlines(keepends=True)[0]
    part.write_text(first + first + first[:30])  # a duplicated line and a torn one, as a crash and a retry leave
    model = ScriptedChatModel(responder)
    again = start_run(Registry(_tools()), model, s, tmp_path, local_explorer=False)
    assert again.resumed == 1 and part.read_text() == first
    assert [run_explore_api(Registry(_tools()), model, again, a) for a in again.apis] == [1, 2]
    assert finish_run(again)["trials"] == 4 and len({t.id for t in read_jsonl(tmp_path / "trials.jsonl", Trial)}) == 4


def test_an_api_task_of_a_replaced_run_is_refused(tmp_path):
    old = start_run(Registry(_tools()), ScriptedChatModel(responder), settings(), tmp_path, local_explorer=False)
    start_run(Registry(_tools()), ScriptedChatModel(responder), settings(seed=5), tmp_path, local_explorer=False)
    with pytest.raises(DataError, match="another run started in this folder"):
        run_explore_api(Registry(_tools()), ScriptedChatModel(responder), old, "add_numbers")


def test_part_files_have_safe_distinct_names(tmp_path):
    assert part_path(tmp_path, "get_weather").name == "get_weather.jsonl"
    odd = [part_path(tmp_path, n).name for n in ("GET /v1/pets", "GET_/v1/pets", "GET /v1.pets")]
    assert len(set(odd)) == 3 and all("/" not in n and " " not in n for n in odd)


@pytest.mark.parametrize("mode", ["query_first", "call_first"])
def test_imagined_queries_have_their_own_token_budget(tmp_path, mode):
    _, model, _ = run(tmp_path, imagination=mode, max_query_tokens=24, max_new_tokens=99)
    budgets = {d.stop: set() for _, d in model.requests}
    for _, d in model.requests:
        budgets[d.stop].add(d.max_tokens)
    assert budgets[IMAGINE_STOP] == {24}  # the queries
    assert budgets[ACT_STOP] == {99}  # the steps that act
