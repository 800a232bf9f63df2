"""The filter stage: rule checks and the judge keep the trials worth learning from."""
