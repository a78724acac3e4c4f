"""`python -m tools.bench`: our pipeline against a naive LangChain pipeline at several corpus sizes (docs/bench.md)."""
