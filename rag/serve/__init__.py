"""Consumers of the pipeline: the JSON API and server (api), the steps as server-sent events (events), the
Gradio chat (ui), 👍/👎 feedback (feedback), the LangChain retriever (langchain). Needs the `web` extra
(feedback alone needs only the standard library: `rag feedback export` runs without it)."""
