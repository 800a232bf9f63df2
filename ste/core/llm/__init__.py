"""LLM backends behind one protocol (`ChatModel`, ste/core/llm/base.py), plus the call cache."""
