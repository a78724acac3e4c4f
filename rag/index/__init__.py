"""Stage 3, chunks → a searchable index on disk: BM25 terms (analysis, bm25), FAISS vectors and the
append-only build folders (store), and the incremental build that ties them to a manifest (build)."""
