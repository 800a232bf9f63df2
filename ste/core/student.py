"""The student's prompt ("tool mode"), shared by fine-tuning records, ICL and evaluation, and its replies.

Training and evaluation must see the very same prompt, so it is built in one place.
"""
from __future__ import annotations

import logging
import sys

from tqdm import tqdm

from ste.core.llm.base import ChatModel, Decoding, Message
from ste.core.react import format_call
from ste.core.schemas import Example
from ste.core.tools.base import Registry

log = logging.getLogger(__name__)
STOP = ("\n\n", "Observation:")  # one call is all we score: stop at a blank line or a hoped-for result
TOOL_MODE = (
    "You are in tool mode. You can call these APIs:\n\n{tools}\n\n"
    "Answer the user's request with one API call, written exactly as:\n"
    "Action: <API name>\nAction Input: <JSON object with the arguments>"
)


def system_message(registry: Registry, apis: list[str]) -> Message:
    return {"role": "system", "content": TOOL_MODE.format(tools=registry.describe(apis))}


def demonstrations(demos: list[Example]) -> str:
    """ICL block: `User Query / Action / Action Input` for each demonstration."""
    return "\n\n".join(f"User Query: {d.query}\n{format_call(d.api, d.arguments)}" for d in demos)


def student_messages(registry: Registry, apis: list[str], query: str, demos: list[Example] = ()) -> list[Message]:
    """System tool-mode message (+ demonstrations), then the user's query."""
    system = system_message(registry, apis)
    if demos:
        system = {"role": "system", "content": system["content"] + "\n\nExamples:\n\n" + demonstrations(list(demos))}
    return [system, {"role": "user", "content": query}]


def target_text(example: Example) -> str:
    """What the student is trained to reply to the query."""
    return format_call(example.api, example.arguments)


def generate(model: ChatModel, prompts: list[list[Message]], decoding: Decoding, label: str,
             batch: int = 16) -> list[str]:
    """The model's reply to each prompt, `batch` conversations per chat_many call, with a progress bar."""
    replies: list[str] = []
    with tqdm(total=len(prompts), desc=label, unit="item", file=sys.stderr, dynamic_ncols=True) as bar:
        for start in range(0, len(prompts), batch):
            replies += [c.text for c in model.chat_many(prompts[start: start + batch], decoding)]
            log.info("%s: %d/%d replies", label, len(replies), len(prompts))  # the bar is for a person, this for logs
            bar.update(len(replies) - bar.n)
    return replies
