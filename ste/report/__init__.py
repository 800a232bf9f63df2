"""The report stage: the ablation table, the significance tests, the charts, the continual-learning view."""
