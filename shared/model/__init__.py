"""The vocabulary every layer shares: the base model, ARM ids, names and tags. Pure."""
