"""The similarity index: exact chunked top-k, TF-IDF and embedding rows, the baseline score."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

import selection.similarity as similarity
from harness.core.errors import ConfigError, InputError
from harness.core.records import PoolRecord
from selection.similarity import (
    IndexConfig,
    encode,
    mean_similarity,
    similarity_scores,
    tfidf,
    top_k,
    top_k_reference,
)
from tests.helpers import sample_texts


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


@pytest.mark.parametrize("as_sparse", [True, False])
@pytest.mark.parametrize("k", [1, 3, 12])
def test_top_k_is_the_full_sort(monkeypatch, as_sparse: bool, k: int) -> None:
    """Chunked top-k equals sorting the whole matrix, ties to the lower index, padding past m."""
    rng = np.random.default_rng(0)
    # few distinct values, so ties at the k-th place are common
    queries = _unit_rows(rng.integers(0, 3, size=(23, 6)).astype(float))
    keys = _unit_rows(rng.integers(0, 3, size=(9, 6)).astype(float))
    full = queries @ keys.T
    if as_sparse:
        queries, keys = sparse.csr_matrix(queries), sparse.csr_matrix(keys)
    if k < 9:  # the k-th value is shared with a key left out, in some rows
        kth = -np.sort(-full, axis=1)[:, k - 1 : k]
        assert ((full >= kth - 1e-12).sum(axis=1) > k).any()
    monkeypatch.setattr(similarity, "BLOCK_ENTRIES", 20)  # two query rows per chunk
    indices, scores = top_k(queries, keys, k)
    expected_indices, expected_scores = top_k_reference(queries, keys, k)
    np.testing.assert_array_equal(indices, expected_indices)
    np.testing.assert_allclose(scores, expected_scores, atol=1e-12)
    if k > 9:
        assert (indices[:, 9:] == -1).all() and np.isneginf(scores[:, 9:]).all()


def test_tfidf_rows_are_unit_and_combined_cosine_is_the_mean() -> None:
    texts = [" ".join(t.lower().split()) for t in sample_texts()[:12]]
    word, char, both = (tfidf(texts, a) for a in ("word", "char", "word+char"))
    for rows in (word, char, both):
        np.testing.assert_allclose(sparse.linalg.norm(rows, axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(
        (both @ both.T).toarray(), ((word @ word.T) + (char @ char.T)).toarray() / 2, atol=1e-9
    )
    with pytest.raises(ConfigError, match="unknown analyzer"):
        tfidf(texts, "bigram")


def test_word_tokens_drop_single_letters_and_keep_single_digits() -> None:
    """Option letters ("a c d b") carry no question; a lab value's "6" does."""
    rows = tfidf(["a c d b sequence", "b d a c sequence", "hemoglobin 6 g dl"], "word")
    assert (rows[0] @ rows[1].T).toarray()[0, 0] == pytest.approx(1.0)
    queries, keys = encode(["hemoglobin 6 g dl"], ["hemoglobin 7 g dl"], IndexConfig())
    assert (queries @ keys.T).toarray()[0, 0] < 1.0


def test_mean_similarity_is_the_mean_of_the_matrix() -> None:
    rng = np.random.default_rng(1)
    queries = sparse.csr_matrix(_unit_rows(rng.random((7, 5))))
    keys = sparse.csr_matrix(_unit_rows(rng.random((4, 5))))
    np.testing.assert_allclose(
        mean_similarity(queries, keys), (queries @ keys.T).toarray().mean(axis=1), atol=1e-12
    )
    with pytest.raises(ConfigError):
        mean_similarity(queries, keys[:0])


def test_similarity_baseline_ranks_the_closest_question_first() -> None:
    validation = [
        PoolRecord(
            "v1", "A child with a barking cough and stridor: what is the diagnosis?", "", "A"
        ),
        PoolRecord(
            "v2", "Croup in a child presents with barking cough and inspiratory stridor", "", "B"
        ),
    ]
    pool = [
        PoolRecord("far", "Which enzyme is rate limiting in cholesterol synthesis?", "", "x"),
        PoolRecord("near", "A child has a barking cough and stridor at night; diagnosis?", "", "x"),
        PoolRecord("mid", "A child has a cough", "", "x"),
    ]
    scores = similarity_scores(pool, validation, IndexConfig())
    assert scores.shape == (3,)
    assert scores.argmax() == 1 and scores.argmin() == 0
    with pytest.raises(ConfigError, match="needs validation items"):
        similarity_scores(pool, [], IndexConfig())


def test_embedding_rows_are_the_mean_pooled_hidden_states(tiny_encoder: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    texts = [t.lower() for t in sample_texts()[:5]]
    config = IndexConfig(embedding_model=str(tiny_encoder), batch_size=2, max_length=64)
    queries, keys = encode(texts[:3], texts[3:], config)
    assert isinstance(queries, np.ndarray) and queries.shape[0] == 3 and keys.shape[0] == 2
    tokenizer = AutoTokenizer.from_pretrained(tiny_encoder)
    model = AutoModel.from_pretrained(tiny_encoder).eval()
    with torch.no_grad():
        for row, text in enumerate(texts):
            batch = tokenizer(text, return_tensors="pt", truncation=True, max_length=64)
            expected = model(**batch).last_hidden_state[0].mean(dim=0)
            expected = (expected / expected.norm()).numpy()
            got = queries[row] if row < 3 else keys[row - 3]
            np.testing.assert_allclose(got, expected, atol=1e-5)
    indices, scores = top_k(queries, keys, 2)
    expected_indices, expected_scores = top_k_reference(queries, keys, 2)
    np.testing.assert_array_equal(indices, expected_indices)
    np.testing.assert_allclose(scores, expected_scores, atol=1e-6)


def test_an_unloadable_embedding_model_is_a_config_error(tmp_path: Path) -> None:
    config = IndexConfig(embedding_model=str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="cannot load the embedding model"):
        encode(["a question"], ["another"], config)


def test_index_config_names_the_conflicting_field() -> None:
    from harness.core.config import parse_section

    with pytest.raises(InputError, match="field 'index.analyzer'"):
        parse_section(IndexConfig, {"embedding_model": "m", "analyzer": "char"}, prefix="index")
    assert IndexConfig(embedding_model="m").describe() == "mean-pooled embeddings of m"
