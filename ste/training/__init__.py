"""Training the student: the shared loop, supervised fine-tuning, the adapter writer, one or several processes."""
