"""`python -m tools.pg.load` (issue 17): two app servers on one PostgreSQL store driven by clients while a new
article is published; the command prints the table and the time until both served the new build."""
import json
import os
import subprocess
import sys

from tests.conftest import ROOT
from tests.test_pg_servers import _host_env, _index


def test_the_load_command_reports_both_servers_and_the_publish(pg_url, small_corpus, tmp_path):
    env = _host_env(pg_url, small_corpus, tmp_path / "indexer")
    done = _index(env)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "load.json"
    cmd = [sys.executable, "-m", "tools.pg.load", pg_url, "--corpus", str(small_corpus), "--clients", "2", "--seconds", "24",
           "--work", str(tmp_path / "hosts"), "--json", str(out)]
    done = subprocess.run(cmd, env={**os.environ, "PYTHONPATH": str(ROOT), "RAG_CACHE_DIR": env["RAG_CACHE_DIR"]},
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| both |" in done.stdout and "both:" in done.stdout
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["all"]["errors"] == 0 and all(s["requests"] > 0 for s in result["servers"].values())
    assert result["publish"]["both_serving_s"] < 5 and result["publish"]["done_at_s"] < result["seconds"]  # under load
    assert len(set(result["builds_after"])) == 1 and result["builds_after"] != result["builds_before"]
    assert sorted(p.name for p in small_corpus.rglob("*.txt")) == ["001_6b3bc755e8fe2ed9.txt", "002_1578cfc18d0bb0f0.txt"]
