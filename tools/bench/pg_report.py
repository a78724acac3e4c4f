"""bench.md's PostgreSQL parts (`--store`): per size the embedded store and PostgreSQL side by side, and the two
app servers under load; a summary row per size."""
from __future__ import annotations


def _lat(part: dict) -> str:
    return f"{part['p50_ms']:.1f} / {part['p95_ms']:.1f}"


def _cached(serve: dict) -> str:
    return _lat(serve["store_search"]) if "store_search" in serve else "–"


def _add(add: dict) -> str:
    return (f"{add['seconds']:.2f} ({add['embedded_chunks']} of {add['chunks']} chunks embedded, "
            f"{'full rebuild' if add['full_rebuild'] else 'incremental'})")


def section(r: dict) -> str:
    """The embedded store against PostgreSQL at one size, then the load phase."""
    o, p = r["ours"], r["postgres"]
    ob, os_, pb, ps = o["build"], o["serve"], p["build"], p["serve"]
    ann = os_["ann"]
    load = p["load"]
    rows = [
        ("Chunks", f"{ob['chunks']}", f"{pb['chunks']}"),
        ("Build, s", f"{ob['build_s']:.1f} (read, chunk, embed, write)",
         f"{pb['build_s']:.1f} (`copy_index` of the embedded build: COPY, HNSW inserts, postings; nothing embedded)"),
        ("Index on disk, MB", f"{ob['index_mb']:.1f} (folder)", f"{ps['database_mb']:.1f} (rag_* tables and indexes)"),
        ("Cold start: new `rag ask` process → answer, s", f"{o['cold_start']['seconds']:.2f}", f"{p['cold_start']['seconds']:.2f}"),
        ("Retrieval p50 / p95, ms (query embedding included)", _lat(os_["retrieval"]), _lat(ps["retrieval"])),
        ("Whole answer p50 / p95, ms", _lat(os_["answer"]), _lat(ps["answer"])),
        ("Search with the question's vector cached p50 / p95, ms (the store's share)",
         _cached(os_), _cached(ps)),
        ("Recall@1 / @5 of a gold source", f"{os_['recall']['recall_at_1']:.3f} / {os_['recall']['recall_at_5']:.3f}",
         f"{ps['recall']['recall_at_1']:.3f} / {ps['recall']['recall_at_5']:.3f}"),
        ("Dense recall@10 against exact search (same vectors)",
         f"{ann['kind']}: " + ("exact" if ann["exact"] else f"{ann['recall_at_10']:.3f}"),
         f"HNSW, ef_search {ps['ef_search']}: {ps['dense_recall_at_10']:.3f}"),
        ("Same answer as the embedded store (answer, abstention, citations)", "–", f"{ps['same_answers']} of {ps['questions']}"),
        ("Peak RSS, serving process, MB", f"{os_['peak_rss_mb']:.0f}", f"{ps['peak_rss_mb']:.0f} (the PostgreSQL server's own apart)"),
        ("One new article, warm process, s", _add(os_["add_article"]), _add(ps["add_article"])),
        ("One new article, `rag index` new process, s", f"{o['add_article_cli']['seconds']:.2f}",
         f"{load['publish']['rag_index_s']:.2f} (during the load below)"),
    ]
    table = ["| | embedded | PostgreSQL + pgvector |", "|---|---:|---:|"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n\n".join([f"### Embedded store against PostgreSQL ({p['store']})", "\n".join(table), load_section(load)])


def load_section(load: dict) -> str:
    pub = load["publish"]
    head = [(f"**Two app servers under load**: two `rag serve` processes (own cache folders) on one database, "
             f"{load['clients']} clients (unique questions, POST /api/ask, half on each server) for {load['seconds']:.0f} s; "
             f"one new article published by `rag index` from {pub['at_s']:.0f} s (both served it at {pub['done_at_s']:.0f} s; "
             "the load lasts until then at least)."), "",
            "| server | requests | per s | p50 / p95 / p99 ms | max ms | errors |", "|---|---:|---:|---:|---:|---:|"]
    for name, s in [*load["servers"].items(), ("both", load["all"])]:
        head.append(f"| {name} | {s['requests']} | {s['per_s']:.1f} | {s['p50_ms']:.0f} / {s['p95_ms']:.0f} / {s['p99_ms']:.0f} | "
                    f"{s['max_ms']:.0f} | {s['errors']} |")
    waits = ", ".join(f"{s:.2f} s" for s in pub["serving_new_build_s"].values())
    both = f"{pub['both_serving_s']:.2f} s" if pub["both_serving_s"] is not None else "NOT within 60 s"
    head += ["", (f"`rag index` of the new article took {pub['rag_index_s']:.2f} s (`{pub['output']}`); after it returned, "
                  f"the servers served the new build after {waits}: both after **{both}**.")]
    return "\n".join(head)


def summary(results: list[dict]) -> str:
    """One row per size: the embedded store and PostgreSQL."""
    rows = [("| chunks | store | build s | retrieval p50 / p95 ms | answer p50 / p95 ms | cached-vector search p50 / p95 ms | dense recall@10 | serving RSS MB | "
             "new article s (warm / `rag index`) | same answers | 2 servers: req/s, p50 / p95 / p99 ms, errors | both serve a publish after s |"),
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        if "postgres" not in r:
            continue
        o, p = r["ours"], r["postgres"]
        ann = o["serve"]["ann"]
        load, a = p["load"], p["load"]["all"]
        rows.append(f"| {o['build']['chunks']} | embedded | {o['build']['build_s']:.0f} | {_lat(o['serve']['retrieval'])} | "
                    f"{_lat(o['serve']['answer'])} | {_cached(o['serve'])} | {'exact' if ann['exact'] else ann['recall_at_10']} | {o['serve']['peak_rss_mb']:.0f} | "
                    f"{o['serve']['add_article']['seconds']:.2f} / {o['add_article_cli']['seconds']:.2f} | – | – | – |")
        rows.append(f"| {p['build']['chunks']} | PostgreSQL | {p['build']['build_s']:.0f} + embedding | {_lat(p['serve']['retrieval'])} | "
                    f"{_lat(p['serve']['answer'])} | {_cached(p['serve'])} | {p['serve']['dense_recall_at_10']} | {p['serve']['peak_rss_mb']:.0f} | "
                    f"{p['serve']['add_article']['seconds']:.2f} / {load['publish']['rag_index_s']:.2f} | "
                    f"{p['serve']['same_answers']} / {p['serve']['questions']} | {a['per_s']:.1f}, {a['p50_ms']:.0f} / {a['p95_ms']:.0f} / "
                    f"{a['p99_ms']:.0f}, {a['errors']} | {load['publish']['both_serving_s']} |")
    return "\n".join(rows) if len(rows) > 2 else ""
