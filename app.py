"""Web entry point. Until the web UI lands this is a console chat over the same library calls."""
from __future__ import annotations

import sys

from rag.config import load_settings
from rag.errors import RagError
from rag.pipeline import RAG


def main() -> int:
    try:
        rag = RAG(load_settings())
    except RagError as e:
        print(f"rag: {e}", file=sys.stderr)
        return e.exit_code
    print(f"Индекс: {rag.index.manifest['documents']} статей, {rag.index.manifest['chunks']} фрагментов. Задайте вопрос (пустая строка — выход).")
    for line in sys.stdin:
        if not line.strip():
            break
        try:
            answer = rag.ask(line)
        except RagError as e:
            print(e)
            continue
        print(answer.answer)
        for c in answer.citations:
            print(f"  — {c.source}: «{c.quote}»")
    return 0


if __name__ == "__main__":
    sys.exit(main())
