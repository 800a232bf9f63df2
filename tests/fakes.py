"""A scripted chat model for unit tests (never for claims that a feature works)."""
from __future__ import annotations

from typing import Callable

from ste.core.llm.base import ChatModel, Completion, Decoding, Message

Script = Callable[[list[Message], Decoding], str]


class ScriptedChatModel(ChatModel):
    """Replies from a list (in order) or from a function of (messages, decoding).

    Every request is recorded in `self.requests` so tests can assert what a step put in the context.
    """

    name = "scripted"

    def __init__(self, replies: list[str] | Script):
        super().__init__()
        self.replies = replies
        self.requests: list[tuple[list[Message], Decoding]] = []

    async def achat(self, messages: list[Message], decoding: Decoding = Decoding()) -> Completion:
        self.requests.append(([dict(m) for m in messages], decoding))
        if callable(self.replies):
            text = self.replies(messages, decoding)
        else:
            if not self.replies:
                raise AssertionError("ScriptedChatModel ran out of replies")
            text = self.replies.pop(0)
        for s in decoding.stop:
            text = text.split(s)[0]
        c = Completion(text, prompt_tokens=sum(len(m["content"].split()) for m in messages),
                       completion_tokens=len(text.split()))
        self.usage.add(c)
        return c
