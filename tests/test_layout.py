"""The layout's promises: the data path flows one way (import-linter contracts in pyproject.toml), the core
needs none of the optional extras, and a missing extra is named with its `pip install`."""
import subprocess
import sys
from pathlib import Path

from rag.errors import missing_extra

ROOT = Path(__file__).resolve().parent.parent
CORE = ["rag.ingest.corpus", "rag.ingest.cleaning", "rag.ingest.chunking", "rag.encode.embedder", "rag.index.build",
        "rag.retrieve.retriever", "rag.answer.extract", "rag.pipeline", "rag.cli"]


def test_imports_follow_the_data_path():
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Contracts: 4 kept, 0 broken" in out.stdout


def test_the_contract_fails_when_the_core_imports_a_consumer(tmp_path):
    """The check can fail: a copy of the package whose retriever imports the API breaks a contract."""
    import shutil

    copy = tmp_path / "src"
    shutil.copytree(ROOT / "rag", copy / "rag", ignore=shutil.ignore_patterns("__pycache__", "static", "data"))
    shutil.copytree(ROOT / "tools", copy / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    retriever = copy / "rag" / "retrieve" / "retriever.py"
    retriever.write_text(retriever.read_text(encoding="utf-8") + "\nfrom rag.serve import api  # noqa\n", encoding="utf-8")
    lint = Path(sys.executable).with_name("lint-imports")
    env = {"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([str(lint), "--config", str(copy / "pyproject.toml")], cwd=copy, capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode != 0 and "rag.retrieve.retriever -> rag.serve.api" in out.stdout


def test_the_core_imports_without_the_optional_extras():
    """Answering from the command line needs neither the web server, nor LangChain, nor plots, nor torch."""
    blocked = ["gradio", "fastapi", "uvicorn", "matplotlib", "langchain_core", "langchain_community", "torch", "transformers", "sentence_transformers"]
    script = (
        "import sys, importlib.abc\n"
        f"BLOCKED = {blocked!r}\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.split('.')[0] in BLOCKED: raise ModuleNotFoundError(name, name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for m in {CORE!r}: __import__(m)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_a_missing_extra_names_its_install_command():
    err = missing_extra(ModuleNotFoundError("No module named 'gradio'", name="gradio"))
    assert "pip install 'rag-ru[web]'" in str(err)
    assert missing_extra(ModuleNotFoundError("No module named 'nope'", name="nope")) is None
