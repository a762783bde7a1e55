"""Stage 1, text: reading files and records (`io`), cleaning pages (`clean`) and tokenising (`tokenize`)."""
