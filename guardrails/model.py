"""The trained intent model: a linear model over hashed character n-grams, the structural
signals and the sentence embedding. Inference is plain numpy (well under a millisecond)."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from guardrails.signals import FEATURE_NAMES, Signals, signal_features

MODEL_PATH = Path(__file__).with_name("data") / "model.npz"
HASH_BITS = 18
NGRAMS = (1, 2, 3)
EMBED_SCALE = 1.0
HEADS = ("violation", "pressure", "deception", "third_party", "harm", "self_harm", "speech")
SPECIAL = ("harm", "self_harm")  # heads with their own threshold (``IntentModel.special``), not the violation decision
# "speech": the violation head for what an agent says on a call, fit on speech alone (guard.score uses it there)
CJK = re.compile(r"[\u3400-\u9fff]")


WORDS = re.compile(r"[a-z0-9']+")
WIDTH = 2 << HASH_BITS  # character 1-3-grams in the lower half; English words, word pairs, character 4-grams above


def ngram_features(text: str, bits: int = HASH_BITS) -> dict[int, float]:
    """Hashed n-grams of normalised ``text``, each half L2-normalised: character 1-3-grams, and English words
    and word pairs with character 4-grams (English meaning lives in words, not in three letters)."""
    size = 1 << bits
    low: dict[int, float] = {}
    padded = f" {text} "
    for n in NGRAMS:
        for i in range(len(padded) - n + 1):
            h = zlib.crc32(padded[i:i + n].encode("utf-8")) & (size - 1)
            low[h] = low.get(h, 0.0) + 1.0
    high: dict[int, float] = {}
    words = WORDS.findall(text)
    for n in (1, 2):
        for i in range(len(words) - n + 1):
            h = size + (zlib.crc32(("w:" + " ".join(words[i:i + n])).encode("utf-8")) & (size - 1))
            high[h] = high.get(h, 0.0) + 1.0
    for i in range(len(text) - 3):
        h = size + (zlib.crc32(("c4:" + text[i:i + 4]).encode("utf-8")) & (size - 1))
        high[h] = high.get(h, 0.0) + 0.5
    out = {}
    for part in (low, high):
        norm = float(np.sqrt(sum(v * v for v in part.values()))) or 1.0
        out.update({k: v / norm for k, v in part.items()})
    return out


# What a text is: an agent's request to the coach, a passage of training material or a line of an entry, or
# what an agent says on a call (a speech engine's transcript of one turn).
KINDS = ("request", "passage", "speech")


def dense_features(signals: Signals, text: str, embedding: np.ndarray, kind: str) -> np.ndarray:
    """Signals, the kind markers and the scaled sentence embedding, in a fixed order."""
    sig = signal_features(signals)
    markers = [1.0 if kind == k else 0.0 for k in KINDS[1:]]
    return np.concatenate([np.asarray(sig + markers, dtype=np.float32),
                           EMBED_SCALE * np.asarray(embedding, dtype=np.float32)])


def decision_key(text: str, kind: str) -> str:
    """Which decision judges a text: its script (zh when it has Chinese characters) and its kind."""
    return f"{'zh' if CJK.search(text) else 'en'}:{kind}"


@dataclass(frozen=True)
class IntentModel:
    """Weights of the heads (violation, one per category, harm outside collections, self-harm) and the decisions
    (chosen in training)."""

    w_ngram: np.ndarray  # (heads, 2**bits)
    w_dense: np.ndarray  # (heads, dense features)
    bias: np.ndarray  # (heads,)
    decisions: dict[str, tuple[float, float]]  # "zh:request", "en:passage", ... -> (threshold, evidence gate)
    embedding_model: str
    special: dict[str, float]  # SPECIAL head -> the probability at which it decides

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> IntentModel:
        with np.load(path, allow_pickle=False) as data:
            if tuple(str(n) for n in data["feature_names"]) != FEATURE_NAMES:
                raise ValueError(f"{path} was trained with other signal features: run `coach guard train`")
            return cls(w_ngram=data["w_ngram"].astype(np.float32), w_dense=data["w_dense"].astype(np.float32),
                       bias=data["bias"].astype(np.float32),
                       decisions={str(k): (float(t), float(g)) for k, (t, g) in
                                  zip(data["decision_scripts"], data["decision_values"])},
                       embedding_model=str(data["embedding_model"]),
                       special={str(k): float(v) for k, v in zip(data["special_heads"], data["special_values"])})

    def save(self, path: Path, **extra) -> None:
        np.savez_compressed(path, w_ngram=self.w_ngram.astype(np.float16), w_dense=self.w_dense,
                            bias=self.bias, decision_scripts=np.array(list(self.decisions)),
                            decision_values=np.array(list(self.decisions.values()), dtype=np.float64),
                            embedding_model=self.embedding_model, special_heads=np.array(list(self.special)),
                            special_values=np.array(list(self.special.values()), dtype=np.float64),
                            feature_names=np.array(FEATURE_NAMES), **extra)

    def decision(self, text: str, kind: str = "request") -> tuple[float, float]:
        """(threshold, evidence gate) for the script the normalised text is written in and its kind."""
        return self.decisions[decision_key(text, kind)]

    def predict(self, ngrams: dict[int, float], dense: np.ndarray) -> dict[str, float]:
        """Probability per head."""
        idx = np.fromiter(ngrams.keys(), dtype=np.int64, count=len(ngrams))
        val = np.fromiter(ngrams.values(), dtype=np.float32, count=len(ngrams))
        logits = self.w_ngram[:, idx] @ val + self.w_dense @ dense + self.bias
        probs = 1.0 / (1.0 + np.exp(-logits))
        return dict(zip(HEADS, probs.tolist()))
