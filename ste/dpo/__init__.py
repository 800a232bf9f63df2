"""The dpo stage: preference training of the fine-tuned student, on exploration's pairs and its own failures."""
