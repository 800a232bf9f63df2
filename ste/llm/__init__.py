"""LLM backends behind one protocol (`ChatModel`), plus the call cache."""
from ste.llm.base import ChatModel, Completion, Decoding, Message, Usage

__all__ = ["ChatModel", "Completion", "Decoding", "Message", "Usage"]
