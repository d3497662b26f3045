"""A similarity index over questions: TF-IDF n-grams, or a sentence-embedding model.

Both sides of a comparison become L2-normalized rows, so a dot product is the cosine
similarity:

- TF-IDF (the default; scikit-learn): word 1-2 grams, character 3-5 grams inside word
  boundaries, or both with equal weight (the cosine is then the mean of the two). The
  vocabulary and IDF are fitted on both sides together, so a word that only one side
  uses still counts in that side's norm. Rows are sparse; products are taken a chunk of
  query rows at a time, so memory stays bounded by `BLOCK_ENTRIES` whatever the sizes.
- Embeddings: any Hugging Face encoder (a local directory or a hub id) through
  `AutoModel`, mean-pooled over the attention mask, no sentence-transformers needed.

Texts are compared as `selection.text.flat_text` leaves them (normalized, option labels
stripped), so a labelled option list and a bare one read alike.

`top_k` is exact: it returns what a full sort of the whole similarity matrix returns
(`top_k_reference`), ties broken towards the lower key index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, get_args

import numpy as np
from pydantic import Field, model_validator
from scipy import sparse

from harness.core.config import FieldProblem, Section
from harness.core.errors import ConfigError
from harness.core.records import PoolRecord
from selection.text import flat_text

# Dense similarity block per chunk: 2**24 float64 entries is 128 MiB.
BLOCK_ENTRIES = 1 << 24
Analyzer = Literal["word", "char", "word+char"]
ANALYZERS: tuple[str, ...] = get_args(Analyzer)

Matrix = Any  # a CSR matrix or a dense float array, rows L2-normalized


class IndexConfig(Section):
    """How questions are represented for the semantic stage and the similarity baseline."""

    analyzer: Analyzer = Field(
        "word",
        description="TF-IDF features: word 1-2 grams, character 3-5 grams, or both averaged",
    )
    embedding_model: str | None = Field(
        None,
        description="sentence-embedding encoder (local directory or hub id) instead of TF-IDF",
    )
    batch_size: int = Field(32, ge=1, description="texts per forward pass of the encoder")
    max_length: int = Field(256, ge=8, description="encoder tokens kept per text")

    @model_validator(mode="after")
    def _one_representation(self) -> IndexConfig:
        if self.embedding_model and "analyzer" in self.model_fields_set:
            raise FieldProblem(
                "analyzer", "the analyzer is for TF-IDF; leave it out with an embedding_model"
            )
        return self

    def describe(self) -> str:
        """The representation in words, for reports."""
        if self.embedding_model:
            return f"mean-pooled embeddings of {self.embedding_model}"
        return {
            "word": "TF-IDF over word 1-2 grams",
            "char": "TF-IDF over character 3-5 grams",
            "word+char": "TF-IDF over word 1-2 grams and character 3-5 grams (averaged)",
        }[self.analyzer]


def encode(
    queries: Sequence[str], keys: Sequence[str], config: IndexConfig
) -> tuple[Matrix, Matrix]:
    """Both sides as L2-normalized rows in one space (queries first, then keys)."""
    if config.embedding_model:
        embedded = embed([*queries, *keys], config)
        return embedded[: len(queries)], embedded[len(queries) :]
    rows = tfidf([*queries, *keys], config.analyzer)
    return rows[: len(queries)], rows[len(queries) :]


def tfidf(texts: Sequence[str], analyzer: str) -> sparse.csr_matrix:
    """TF-IDF rows (sublinear term frequency), L2-normalized, fitted on `texts` themselves."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if analyzer not in ANALYZERS:
        raise ConfigError(f"unknown analyzer {analyzer!r}; choose from {', '.join(ANALYZERS)}")
    blocks = []
    for kind in analyzer.split("+"):
        vectorizer = (
            # texts are normalized already (words apart by single spaces); a single letter
            # (an option label, a list marker) is no word, a single digit (a lab value) is
            TfidfVectorizer(
                token_pattern=r"\S\S+|\d", lowercase=False, ngram_range=(1, 2), sublinear_tf=True
            )
            if kind == "word"
            else TfidfVectorizer(
                analyzer="char_wb", lowercase=False, ngram_range=(3, 5), sublinear_tf=True
            )
        )
        blocks.append(vectorizer.fit_transform(texts))
    if len(blocks) == 1:
        return sparse.csr_matrix(blocks[0])
    # each block has unit rows; scaling by 1/sqrt(2) makes the stacked row a unit row
    # whose dot products are the mean of the blocks' cosines
    return sparse.csr_matrix(sparse.hstack(blocks) * np.sqrt(0.5))


def embed(texts: Sequence[str], config: IndexConfig) -> np.ndarray:
    """Mean-pooled, L2-normalized encoder embeddings (float32, one row per text)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    name = str(config.embedding_model)
    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
        model = AutoModel.from_pretrained(name)
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot load the embedding model {name!r}: {error}") from None
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device).eval()
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(texts), config.batch_size):
            batch = tokenizer(
                list(texts[start : start + config.batch_size]),
                padding=True,
                truncation=True,
                max_length=config.max_length,
                return_tensors="pt",
            ).to(device)
            hidden = model(**batch).last_hidden_state.float()
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
            out[start : start + len(pooled)] = pooled.cpu().numpy()
    return out


def _dense(block: Any) -> np.ndarray:
    return np.asarray(block.toarray() if sparse.issparse(block) else block, dtype=np.float64)


def _chunks(queries: Matrix, keys: Matrix) -> Any:
    """(start, dense similarity block) for consecutive query rows, each block bounded."""
    rows = max(1, BLOCK_ENTRIES // max(1, keys.shape[0]))
    transposed = keys.T.tocsr() if sparse.issparse(keys) else keys.T
    for start in range(0, queries.shape[0], rows):
        yield start, _dense(queries[start : start + rows] @ transposed)


def top_k(queries: Matrix, keys: Matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices, similarities) of each query's k most similar keys, best first.

    Exact: equal to `top_k_reference`; among equal similarities the lower key index
    comes first. Fewer than k keys: every key, the rest padded with index -1 and
    similarity -inf.
    """
    n, m = queries.shape[0], keys.shape[0]
    indices = np.full((n, k), -1, dtype=np.int64)
    scores = np.full((n, k), -np.inf)
    take = min(k, m)
    if take == 0:
        return indices, scores
    for start, block in _chunks(queries, keys):
        rows = np.arange(block.shape[0])[:, None]
        picked = np.argpartition(-block, take - 1, axis=1)[:, :take]
        values = block[rows, picked]
        # ties at the k-th value: argpartition picks any of them; the lowest index must win
        boundary = values.min(axis=1)
        tied = np.flatnonzero((block >= boundary[:, None]).sum(axis=1) > take)
        for row in tied:
            order = np.lexsort((np.arange(m), -block[row]))[:take]
            picked[row], values[row] = order, block[row, order]
        order = np.lexsort((picked, -values), axis=1)
        indices[start : start + len(block), :take] = np.take_along_axis(picked, order, axis=1)
        scores[start : start + len(block), :take] = np.take_along_axis(values, order, axis=1)
    return indices, scores


def top_k_reference(queries: Matrix, keys: Matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """`top_k` the slow way: the whole similarity matrix at once, fully sorted."""
    full = _dense(queries @ keys.T)
    indices = np.full((full.shape[0], k), -1, dtype=np.int64)
    scores = np.full((full.shape[0], k), -np.inf)
    take = min(k, full.shape[1])
    for row in range(full.shape[0]):
        order = np.lexsort((np.arange(full.shape[1]), -full[row]))[:take]
        indices[row, :take], scores[row, :take] = order, full[row, order]
    return indices, scores


def mean_similarity(queries: Matrix, keys: Matrix) -> np.ndarray:
    """Each query's mean cosine similarity to all keys (the mean of a row of the matrix).

    The mean of dot products with unit keys is the dot product with their mean, so
    this is one product with one vector, whatever the number of keys.
    """
    if keys.shape[0] == 0:
        raise ConfigError("no texts to compare with")
    centroid = np.asarray(keys.mean(axis=0)).ravel()
    return np.asarray(queries @ centroid, dtype=np.float64).ravel()


def similarity_scores(
    pool: Sequence[PoolRecord], validation: Sequence[PoolRecord], config: IndexConfig
) -> np.ndarray:
    """The similarity baseline's score of each pool record, in pool order.

    The mean cosine similarity of the pool question to the validation questions, as
    LESS averages its scores over validation examples. The DIQ paper names a
    "Similarity" baseline without defining it; this is the reading documented in
    docs/decontamination.md.
    """
    if not validation:
        raise ConfigError("the similarity baseline needs validation items")
    queries, keys = encode(
        [flat_text(r.question) for r in pool], [flat_text(r.question) for r in validation], config
    )
    return mean_similarity(queries, keys)
