"""Stage 5, evidence → an answer with citations or an abstention (extract)."""
