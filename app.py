"""Web entry point: `python app.py [--host H] [--port P] [--root-path /rag]` is `rag serve`: one server with the
chat at /, the JSON API under /api, the widget (/widget.js, /widget-demo) and the source viewer (/sources)."""
import typer

from rag.cli import serve

if __name__ == "__main__":
    typer.run(serve)
