"""The neutral core every stage uses: errors, io, provenance, schemas, text, the LLM layer, the tools,
the student's prompt and weights.

Nothing here imports a stage package (tests/test_layout.py checks it)."""
