"""The hybrid retriever as a LangChain retriever, so it plugs into LangChain chains."""
from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.retrieve.retriever import Retriever


class HybridRetriever(BaseRetriever):
    """`HybridRetriever(retriever=rag.retriever, k=5).invoke("вопрос")` → LangChain Documents."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    retriever: Retriever
    k: int = 5
    mode: str = "hybrid"

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[LCDocument]:
        documents = self.retriever.index.documents
        return [
            LCDocument(
                page_content=hit.chunk.text,
                metadata={
                    "source": hit.chunk.source,
                    "title": documents[hit.chunk.source].title,
                    "start": hit.chunk.start,
                    "end": hit.chunk.end,
                    "score": hit.score,
                },
            )
            for hit in self.retriever.search(query, k=self.k, mode=self.mode)
        ]
