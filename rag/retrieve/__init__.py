"""Stage 4, question → ranked chunks and evidence sentences: typo correction (spelling), hybrid dense + BM25
search fused by reciprocal rank and evidence scoring (retriever)."""
