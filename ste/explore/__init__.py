"""The exploration stage: simulated trials of each API, with short/long-term memory and reflection."""
