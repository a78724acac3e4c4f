"""Consumers of the pipeline: the JSON API and server (api), the Gradio chat (ui),
follow-up questions (conversation), the LangChain retriever (langchain). Needs the `web` extra."""
