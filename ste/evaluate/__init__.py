"""Evaluation of a student on the gold test set: prompts, predictions, metrics, demonstrations."""
