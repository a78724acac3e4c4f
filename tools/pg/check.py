"""Checks a PostgreSQL + pgvector server for what the RAG app needs.

    python tools/pg/check.py postgresql://postgres@127.0.0.1:55432/rag [--rows 10000]

Needs: pip install 'psycopg[binary]' pgvector numpy   (tested: psycopg 3.3.9, pgvector 0.5.1, numpy 2.4.6)

Checks: the vector extension; 10k random unit vectors of 384 dims loaded with binary COPY;
exact top-10 (sequential scan) equal to numpy's; an HNSW index (vector_cosine_ops) that the
planner uses, with its top-10 recall against numpy; Russian full-text search; LISTEN/NOTIFY
between two connections. Prints timings and ends with 'check: N passed, N failed'; exits 1 on
any failure. Works in its own table, dropped at the end.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback

import numpy as np
import psycopg
from pgvector.psycopg import register_vector

DIM = 384
TABLE = "pg_check_items"
results: list[tuple[str, bool, str]] = []


def check(name):
    def wrap(fn):
        def run(*a, **kw):
            t = time.perf_counter()
            try:
                info = fn(*a, **kw) or ""
                ok = True
            except Exception as e:  # noqa: BLE001 - report every failure, go on
                info = f"{type(e).__name__}: {e}"
                traceback.print_exc()
                ok = False
            dt = time.perf_counter() - t
            results.append((name, ok, info))
            print(f"{'PASS' if ok else 'FAIL'} {name} ({dt:.2f}s) {info}", flush=True)
            return ok

        return run

    return wrap


def topk_exact(data: np.ndarray, q: np.ndarray, k: int) -> list[list[int]]:
    # Unit vectors: cosine distance = 1 - dot, so the nearest have the largest dot products.
    sims = q @ data.T
    idx = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return idx.tolist()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--k", type=int, default=10)
    args = ap.parse_args()
    n, nq, k = args.rows, args.queries, args.k

    rng = np.random.default_rng(12345)
    data = rng.standard_normal((n, DIM)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    queries = rng.standard_normal((nq, DIM)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    truth = topk_exact(data, queries, k)

    conn = psycopg.connect(args.url, autocommit=True)
    print(f"server: {conn.execute('SELECT version()').fetchone()[0]}")
    print(f"psycopg {psycopg.__version__} (libpq {psycopg.pq.version()}, impl {psycopg.pq.__impl__})")

    @check("extension vector")
    def _ext():
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        register_vector(conn)
        return "version " + conn.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0]

    if not _ext():
        return summary()

    @check(f"COPY {n} rows of vector({DIM})")
    def _copy():
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.execute(f"CREATE TABLE {TABLE} (id int PRIMARY KEY, emb vector({DIM}) NOT NULL)")
        t = time.perf_counter()
        with conn.cursor() as cur, cur.copy(
                f"COPY {TABLE} (id, emb) FROM STDIN WITH (FORMAT BINARY)") as cp:
            cp.set_types(["int4", "vector"])
            for i in range(n):
                cp.write_row((i, data[i]))
        dt = time.perf_counter() - t
        got = conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]
        assert got == n, f"{got} rows"
        back = conn.execute(f"SELECT emb FROM {TABLE} WHERE id = 7").fetchone()[0]
        back = back.to_numpy() if hasattr(back, "to_numpy") else np.asarray(back)  # pgvector 0.5: Vector
        assert np.array_equal(back, data[7]), "vector round trip differs"
        conn.execute(f"ANALYZE {TABLE}")
        return f"{n / dt:,.0f} rows/s"

    def search(q, extra_sql=()):
        with conn.transaction():
            for s in extra_sql:
                conn.execute(s)
            rows = conn.execute(
                f"SELECT id, emb <=> %s AS d FROM {TABLE} ORDER BY emb <=> %s LIMIT %s",
                (q, q, k)).fetchall()
        return [r[0] for r in rows], [r[1] for r in rows]

    @check("exact top-10 (seq scan) equals numpy")
    def _exact():
        worst = 0.0
        for qi in range(min(nq, 20)):
            ids, dists = search(queries[qi], ["SET LOCAL enable_indexscan = off"])
            want = truth[qi]
            assert ids == want, f"query {qi}: {ids} != {want}"
            np_d = 1.0 - data[want] @ queries[qi]
            worst = max(worst, float(np.max(np.abs(np.array(dists) - np_d))))
        assert worst < 1e-5, f"distance differs from numpy by {worst}"
        return f"20 queries, max |distance - numpy| = {worst:.1e}"

    @check("HNSW index (vector_cosine_ops) build")
    def _index():
        t = time.perf_counter()
        conn.execute(f"CREATE INDEX {TABLE}_hnsw ON {TABLE} "
                     "USING hnsw (emb vector_cosine_ops) WITH (m = 16, ef_construction = 64)")
        dt = time.perf_counter() - t
        plan = "\n".join(r[0] for r in conn.execute(
            f"EXPLAIN SELECT id FROM {TABLE} ORDER BY emb <=> %s LIMIT 10", (queries[0],)))
        assert f"{TABLE}_hnsw" in plan, "planner does not use the index:\n" + plan
        return f"{dt:.2f}s for {n} rows; planner uses it"

    recalls = {}

    @check("HNSW top-10 recall vs numpy")
    def _recall():
        out = []
        for ef in (40, 100, 400, 1000):
            hits, t = 0, time.perf_counter()
            for qi in range(nq):
                ids, _ = search(queries[qi], [f"SET LOCAL hnsw.ef_search = {ef}"])
                hits += len(set(ids) & set(truth[qi]))
            ms = (time.perf_counter() - t) / nq * 1000
            recalls[ef] = hits / (nq * k)
            out.append(f"ef_search={ef}: recall {recalls[ef]:.3f}, {ms:.2f} ms/query")
        print("   " + "\n   ".join(out), flush=True)
        # Isotropic random 384-d vectors are HNSW's worst case (no structure to exploit): recall
        # at the default ef_search=40 is low (~0.36) and is only reported. Clustered data, like real
        # embeddings, gets ~1.0 at ef_search=40. The assert checks the index is right: with a wide
        # search (ef_search=1000) it must find nearly all true neighbours.
        assert recalls[1000] >= 0.95, f"recall@10 {recalls[1000]:.3f} < 0.95 at ef_search=1000"
        return f"{nq} queries; " + "; ".join(f"ef{ef}={r:.3f}" for ef, r in recalls.items())

    @check("Russian full-text search")
    def _fts():
        tsv = conn.execute("SELECT to_tsvector('russian', 'саммита в Астане')::text").fetchone()[0]
        assert tsv == "'астан':3 'саммит':1", tsv
        hit = conn.execute("SELECT to_tsvector('russian', 'саммита в Астане') @@ "
                           "plainto_tsquery('russian', 'к саммиту в Астане')").fetchone()[0]
        assert hit is True, "plainto_tsquery does not match"
        # Snowball's quirk, shown not asserted: nominatives stem apart ('самм', 'аста').
        nom = conn.execute("SELECT plainto_tsquery('russian', 'саммит Астана')::text").fetchone()[0]
        return f"{tsv}; 'саммит Астана' -> {nom}"

    @check("LISTEN/NOTIFY between two connections")
    def _notify():
        with psycopg.connect(args.url, autocommit=True) as listener, \
                psycopg.connect(args.url, autocommit=True) as sender:
            listener.execute("LISTEN pg_check")
            sender.execute("SELECT pg_notify('pg_check', %s)", ("привет 42",))
            got = list(listener.notifies(timeout=5, stop_after=1))
            assert got, "no notification within 5 s"
            note = got[0]
            assert note.channel == "pg_check" and note.payload == "привет 42", note
            assert note.pid == sender.info.backend_pid, "notification from the wrong backend"
            return f"payload {note.payload!r} from pid {note.pid}"

    for fn in (_copy, _exact, _index, _recall, _fts, _notify):
        fn()
    conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    conn.close()
    return summary()


def summary() -> int:
    failed = sum(1 for _, ok, _ in results if not ok)
    print(f"check: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
