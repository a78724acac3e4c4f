"""The retriever works inside a LangChain chain."""
from langchain_core.runnables import RunnableLambda

from rag.serve.langchain import HybridRetriever


def test_retriever_plugs_into_a_chain(seed_rag):
    retriever = HybridRetriever(retriever=seed_rag.retriever, k=3)
    docs = retriever.invoke("Где прошла сессия Совета коллективной безопасности ОДКБ?")
    assert len(docs) == 3 and docs[0].metadata["source"] == "003_83e2e03ee03bef0d.txt"
    assert "Душанбе" in " ".join(d.page_content for d in docs)
    chain = retriever | RunnableLambda(lambda ds: "\n\n".join(f"[{d.metadata['source']}] {d.page_content}" for d in ds))
    context = chain.invoke("Сколько конфликтов было в мире за прошлый год?")
    assert "183" in context and "[001_6b3bc755e8fe2ed9.txt]" in context
