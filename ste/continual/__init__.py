"""The continual-learning stage: rounds of fine-tuning on batches of APIs, each scored on every batch so far."""
