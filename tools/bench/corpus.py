"""The benchmark's Russian corpus: the seed articles verbatim plus distractor articles made by recombining
the seeds' sentences and swapping their names, numbers and most content words for other word forms of the
same grammatical form from pymorphy3's dictionary; deterministic, cached per size."""
from __future__ import annotations

import hashlib
import importlib.metadata
import itertools
import json
import os
import random
import re
import shutil
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

import pymorphy3
from razdel import sentenize
from tqdm import tqdm

from rag.config import ROOT
from rag.ingest.chunking import encoding
from rag.ingest.corpus import load_corpus
from tools.bench.settings import BenchSettings as Settings

GENERATOR_VERSION = 1  # bump when the generated text changes: cached corpora are then made anew
SEEDS_DIR = ROOT / "seeds"
MANIFEST = "corpus.json"
GENERATED = "gen"  # distractors live below this folder; the seeds stay at the top, named as the eval names them
FILES_PER_FOLDER = 1000
NEW_ARTICLE_BASE = 10**9  # numbers of the extra articles the add-an-article test writes: never part of a corpus
# Alternatives per grammatical form, and how much of pymorphy3's dictionary is sampled for them.
ALTERNATIVES = 64
FALLBACK_PER_TAG = 8
PREFIX_SAMPLE = 40  # word forms read per three-letter prefix of a seed word
ALPHABET_SAMPLE = 12  # word forms read per two-letter prefix, for vocabulary beyond the seeds' topics
ALPHABET = "абвгдежзиклмнопрстуфхцчшэюя"
ARTICLE_SENTENCES = (6, 30)
PARAGRAPH_SENTENCES = (1, 4)
OTHER_ARTICLE_SHARE = 0.3  # sentences of a distractor taken from a seed other than its main one
TITLE_WORDS = 10
RETRIES = 5

CONTENT = {"NOUN", "ADJF", "ADJS", "COMP", "VERB", "INFN", "PRTF", "PRTS", "GRND", "ADVB"}
PROPER = {"Name", "Surn", "Patr", "Geox", "Orgn", "Trad"}
ODD = {"Arch", "Infr", "Slng", "Erro", "Dist", "Litr", "Abbr", "Init"}  # forms no news article would use
TOKEN = re.compile(r"([А-Яа-яЁё]+(?:-[А-Яа-яЁё]+)*|\d+)")
YEAR = re.compile(r"(19|20)\d\d")
YEARS = (1991, 2030)  # a year in a seed becomes a year in this range


@dataclass(frozen=True)
class BenchCorpus:
    """A generated corpus folder and what it holds."""

    path: Path
    size: int  # the size asked for, in our chunks
    estimated_chunks: int  # by the chunker's packing rule over tiktoken sentence sizes; the build counts the real ones
    seed_files: int
    articles: int  # generated distractors
    characters: int
    bytes: int
    fingerprint: str
    generated_seconds: float  # 0 when it came from the cache
    cached: bool


def _coarse(tag) -> tuple:
    return (tag.POS, tag.case, tag.number, bool(PROPER & tag.grammemes))


def _without(words: list[str], word: str) -> tuple[str, ...]:
    return tuple(w for w in words if w != word.lower())


def _case_like(word: str, model: str) -> str:
    if len(model) > 1 and model.isupper():
        return word.upper()
    if model[:1].isupper():
        return "-".join(part.capitalize() for part in word.split("-"))
    return word


def pack_count(sizes: list[int], chunk_tokens: int, overlap: int) -> int:
    """Chunks the chunker makes of sentences of these token sizes (greedy packing, `overlap` sentences shared)."""
    count, i = 0, 0
    while i < len(sizes):
        j, total = i + 1, sizes[i]
        while j < len(sizes) and total + sizes[j] <= chunk_tokens:
            total += sizes[j]
            j += 1
        count += 1
        if j == len(sizes):
            break
        i = max(j - overlap, i + 1)
    return count


class Generator:
    """Distractor articles from the seed articles' sentences: article n is the same on every machine."""

    def __init__(self, settings: Settings, seeds_dir: Path = SEEDS_DIR):
        self.settings, self.seeds_dir = settings, seeds_dir
        self.docs, _ = load_corpus(seeds_dir)
        self.morph = pymorphy3.MorphAnalyzer()
        self.sentences = [
            [d.text[a + s.start : a + s.stop] for a, b in d.paragraphs for s in sentenize(d.text[a:b])] for d in self.docs
        ]
        self.seed_sentences = {" ".join(s.split()) for doc in self.sentences for s in doc}

    @cached_property
    def fingerprint(self) -> str:
        s = self.settings
        h = hashlib.sha256(
            json.dumps([GENERATOR_VERSION, s.bench_seed, s.bench_keep_words, s.tiktoken_encoding, s.chunk_tokens,
                        s.chunk_overlap_sentences, importlib.metadata.version("pymorphy3-dicts-ru")]).encode()
        )
        for path in sorted(self.seeds_dir.glob("*.txt")):
            h.update(path.name.encode() + path.read_bytes())
        h.update(json.dumps(self.sentences).encode())  # the seeds as cleaned and split now: cleaning may change
        return h.hexdigest()[:12]

    def _tag(self, word: str):
        return self.morph.parse(word.lower())[0].tag

    @cached_property
    def _forms(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """Word forms by full grammatical tag: the seeds' own words, and a deterministic sample of the dictionary."""
        words = self.morph.dictionary.words
        seed_words = {w.lower() for doc in self.sentences for s in doc for w in TOKEN.findall(s) if not w.isdigit()}
        prefixes = [(p, PREFIX_SAMPLE) for p in sorted({w[:3] for w in seed_words if len(w) >= 3})]
        prefixes += [(a + b, ALPHABET_SAMPLE) for a in ALPHABET for b in ALPHABET]
        seed: dict[str, set[str]] = defaultdict(set)
        lexicon: dict[str, set[str]] = defaultdict(set)
        for prefix, n in prefixes:
            for word, (paradigm, idx) in itertools.islice(words.iteritems(prefix), n):
                tag = self.morph.dictionary.build_tag_info(paradigm, idx)
                if not ODD & tag.grammemes and "ё" not in word:
                    lexicon[str(tag)].add(word)
        for word in sorted(seed_words):
            seed[str(self._tag(word))].add(word)
        # Sorted everywhere: set order changes with PYTHONHASHSEED, and the corpus must not.
        rng = random.Random(self.settings.bench_seed)
        return tuple(
            {tag: rng.sample(sorted(ws), min(len(ws), ALTERNATIVES)) for tag, ws in sorted(forms.items())} for forms in (seed, lexicon)
        )

    @cached_property
    def _fallback(self) -> dict[tuple, list[str]]:
        """Dictionary words by coarse form (part of speech, case, number, name or not), for a full tag without others."""
        out: dict[tuple, list[str]] = defaultdict(list)
        for tag, ws in self._forms[1].items():
            out[_coarse(self.morph.TagClass(tag))] += ws[:FALLBACK_PER_TAG]
        return out

    def _slot(self, word: str, first: bool) -> str | list:
        """A word of a template: kept as it is, or a slot [kind, original, seed alternatives, dictionary ones]."""
        if word.isdigit():
            return ["number", word, (), ()]
        tag = self._tag(word)
        proper = bool(PROPER & tag.grammemes) or (not first and word[0].isupper())
        if not proper and tag.POS not in CONTENT:
            return word
        seed_forms, lexicon = self._forms
        alts = _without(lexicon.get(str(tag), []), word)
        if len(alts) < 2:
            alts = _without(self._fallback[_coarse(tag)], word)
        # Names come from the dictionary only: a seed's name in a distractor would blur whose fact it is.
        seed_alts = () if proper else _without(seed_forms.get(str(tag), []), word)
        return ["proper" if proper else "word", word, seed_alts, alts]

    @cached_property
    def templates(self) -> list[list[list]]:
        """Per seed article, per sentence: literal text alternating with words or slots (see `_slot`)."""
        return [
            [[piece if k % 2 == 0 else self._slot(piece, k == 1) for k, piece in enumerate(TOKEN.split(sentence))] for sentence in doc]
            for doc in self.sentences
        ]

    def _sentence(self, parts: list, rng: random.Random) -> str:
        """One sentence from a template: numbers and names always new, a content word kept with probability
        `bench_keep_words`, else swapped for a seed word or a dictionary word of the same form (half and half)."""
        keep = self.settings.bench_keep_words
        out = []
        for part in parts:
            if isinstance(part, str):
                out.append(part)
                continue
            kind, original, seed_alts, alts = part
            if kind == "number":
                n = len(original)
                out.append(str(rng.randint(*YEARS)) if YEAR.fullmatch(original) else f"{rng.randrange(10**n):0{n}d}")
                continue
            r = rng.random()
            if kind == "word" and r < keep:
                out.append(original)
            elif seed_alts and r < (1 + keep) / 2:
                out.append(_case_like(rng.choice(seed_alts), original))
            elif alts:
                out.append(_case_like(rng.choice(alts), original))
            else:
                out.append(original)
        return "".join(out)

    def article(self, n: int) -> list[list[str]]:
        """Article number n as paragraphs of sentences; the first paragraph is its title. No sentence is a seed's."""
        rng = random.Random(f"{self.settings.bench_seed}:{n}")
        main = rng.randrange(len(self.templates))
        start = rng.randrange(len(self.templates[main]))
        sentences = []
        for i in range(rng.randint(*ARTICLE_SENTENCES)):
            doc = main if rng.random() >= OTHER_ARTICLE_SHARE else rng.randrange(len(self.templates))
            parts = self.templates[doc][(start + i) % len(self.templates[doc])] if doc == main else rng.choice(self.templates[doc])
            for _ in range(RETRIES):
                text = self._sentence(parts, rng)
                if " ".join(text.split()) not in self.seed_sentences:
                    sentences.append(text)
                    break
        title = " ".join(sentences[0].rstrip(".!?…").split()[:TITLE_WORDS])
        paragraphs, i = [[title]], 0
        while i < len(sentences):
            step = rng.randint(*PARAGRAPH_SENTENCES)
            paragraphs.append(sentences[i : i + step])
            i += step
        return paragraphs

    def article_text(self, n: int) -> str:
        return _text(self.article(n))

    def chunks_of(self, paragraphs: list[list[str]]) -> int:
        """Estimated chunks of an article: the chunker's packing over tiktoken sizes of its sentences."""
        enc = encoding(self.settings.tiktoken_encoding, self.settings.cache_dir)
        sizes = [len(t) for t in enc.encode_ordinary_batch([s for p in paragraphs for s in p])]
        return pack_count(sizes, self.settings.chunk_tokens, self.settings.chunk_overlap_sentences)


def _text(paragraphs: list[list[str]]) -> str:
    """An article file: paragraphs (the title first) separated by blank lines."""
    return "\n\n".join(" ".join(p) for p in paragraphs) + "\n"


def article_path(root: Path, n: int) -> Path:
    return root / GENERATED / f"{n // FILES_PER_FOLDER:04d}" / f"article-{n:07d}.txt"


def ensure_corpus(settings: Settings, size: int, progress: bool = True, generator: Generator | None = None) -> BenchCorpus:
    """The corpus of about `size` chunks under settings.cache_dir/bench, generated once and then reused."""
    gen = generator or Generator(settings)
    seeds_dir = gen.seeds_dir
    root = settings.cache_dir / "bench"
    folder = root / f"corpus-{size}-{gen.fingerprint}"
    if (folder / MANIFEST).exists():
        return BenchCorpus(**{**json.loads((folder / MANIFEST).read_text()), "path": folder, "generated_seconds": 0.0, "cached": True})
    t0 = time.perf_counter()
    tmp = root / f".{folder.name}.{os.getpid()}.tmp"  # per process: two runs may generate the same size at once
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    seed_chunks = sum(gen.chunks_of([[s] for s in doc]) for doc in gen.sentences)
    chunks, n, chars = seed_chunks, 0, 0
    for path in sorted(seeds_dir.glob("*.txt")):
        shutil.copy2(path, tmp / path.name)
        chars += len(path.read_text(encoding="utf-8"))
    with tqdm(total=size, initial=min(chunks, size), desc=f"corpus {size}", unit="chunk", disable=not progress) as bar:
        while chunks < size:
            paragraphs = gen.article(n)
            text = _text(paragraphs)
            path = article_path(tmp, n)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            added = gen.chunks_of(paragraphs)
            bar.update(min(added, size - chunks))
            chunks, n, chars = chunks + added, n + 1, chars + len(text)
    info = BenchCorpus(
        path=folder, size=size, estimated_chunks=chunks, seed_files=len(gen.docs), articles=n, characters=chars,
        bytes=sum(p.stat().st_size for p in tmp.rglob("*.txt")), fingerprint=gen.fingerprint,
        generated_seconds=round(time.perf_counter() - t0, 1), cached=False,
    )
    (tmp / MANIFEST).write_text(json.dumps({k: v for k, v in asdict(info).items() if k not in ("path", "generated_seconds", "cached")}))
    for old in root.glob(f"corpus-{size}-*"):  # made by an older generator or other settings
        if old != folder:
            shutil.rmtree(old, ignore_errors=True)
    try:
        tmp.rename(folder)
    except OSError:  # another process finished the same corpus first: it is identical
        shutil.rmtree(tmp, ignore_errors=True)
    return info
