"""Use cases: the rules and the transactions. Web and CLI call these."""
