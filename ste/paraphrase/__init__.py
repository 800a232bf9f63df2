"""The paraphrase stage: balance the kept examples by paraphrase, export ICL, fine-tuning and preference data."""
