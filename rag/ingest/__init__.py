"""Stage 1, files → documents → chunks: find and decode files (corpus), strip site furniture (cleaning),
pack sentences into chunks that fit the embedder (chunking)."""
