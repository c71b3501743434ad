"""Scoring a comment with a trained model, on the request path: numpy only, never scikit-learn.

A model is one logistic regression over the hashed features, p = sigmoid(a * (w . x + b) + c), where
(a, c) is the calibration fitted at training time. Blending with the base model happens at training
time too (see training.py): the blend of two linear models is a linear model, so whatever was
trained, scoring is one sparse dot product (~0.1 ms per comment, features included).
"""
import json
import math
import struct
import zlib
from dataclasses import dataclass, field

import numpy as np

from app.spam.features import FEATURE_VERSION, N_FEATURES, Features

_MAGIC = b"CSPM"
_FORMAT = 1


@dataclass(eq=False)
class Model:
    """Weights (float32, one per hashed feature), bias and calibration; ``info`` says how it was trained
    (examples, spam, base_share, cv_auc). A model whose ``feature_version`` is not FEATURE_VERSION
    was trained on other features: retrain, or score with the base model meanwhile."""
    weights: np.ndarray
    bias: float
    calibration: tuple[float, float] = (1.0, 0.0)
    feature_version: int = FEATURE_VERSION
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.weights = np.ascontiguousarray(self.weights, dtype=np.float32)
        if self.weights.shape != (N_FEATURES,):
            raise ValueError(f"expected {N_FEATURES} weights, got {self.weights.shape}")

    def logit(self, features: Features) -> float:
        """The calibrated log-odds that the comment is spam."""
        raw = float(np.dot(self.weights[features.indices].astype(np.float64),
                           features.values.astype(np.float64))) + self.bias
        scale, shift = self.calibration
        return scale * raw + shift

    def score(self, features: Features) -> float:
        """The probability that the comment is spam, in [0, 1]."""
        return _sigmoid(self.logit(features))

    def explain(self, features: Features, n: int = 3) -> list[tuple[str, float]]:
        """The n terms that pushed the score most toward spam, with their share of the log-odds.

        A word is credited with its own feature and its character n-grams; an index that several
        terms set (a shared n-gram, a hash collision) is shared equally between them.
        """
        terms = features.terms
        if not terms or n <= 0 or not len(features.indices):
            return []
        # Every index a term claims (each is one of ``features.indices``, which are sorted), as a position
        # there; the term of each.
        sizes = np.fromiter((len(indices) for _, indices in terms), dtype=np.int64, count=len(terms))
        owner = np.repeat(np.arange(len(terms)), sizes)
        positions = np.searchsorted(features.indices, features.claimed)
        claims = np.bincount(positions, minlength=len(features.indices))
        pushed = (self.weights[features.indices].astype(np.float64) * features.values) * self.calibration[0]
        push = np.bincount(owner, weights=pushed[positions] / claims[positions], minlength=len(terms))
        # The n largest positive pushes (all those tied with the n-th too), ordered by push, then label.
        positive = np.flatnonzero(push > 0)
        if len(positive) > n:
            floor = np.partition(push[positive], len(positive) - n)[len(positive) - n]
            positive = positive[push[positive] >= floor]
        pushes = sorted(((terms[i][0], float(push[i])) for i in positive),
                        key=lambda item: (-item[1], item[0]))
        return pushes[:n]

    def to_bytes(self) -> bytes:
        """Magic, format, then zlib of a JSON header and the float32 weights (byte planes apart: they
        compress far better). Deterministic: the same model gives the same bytes."""
        header = json.dumps({"bias": self.bias, "calibration": list(self.calibration),
                             "feature_version": self.feature_version, "n_features": N_FEATURES,
                             "info": self.info}, sort_keys=True).encode()
        planes = self.weights.astype("<f4").view(np.uint8).reshape(-1, 4).T.tobytes()
        body = struct.pack("<I", len(header)) + header + planes
        return _MAGIC + bytes([_FORMAT]) + zlib.compress(body, 6)  # 9: 7% smaller, 13 times slower

    @classmethod
    def from_bytes(cls, data: bytes) -> "Model":
        if data[:4] != _MAGIC or data[4] != _FORMAT:
            raise ValueError("not a spam model of a known format")
        body = zlib.decompress(data[5:])
        (size,) = struct.unpack_from("<I", body)
        header = json.loads(body[4:4 + size])
        if header["n_features"] != N_FEATURES:
            raise ValueError("the model has a different number of features")
        planes = np.frombuffer(body[4 + size:], dtype=np.uint8).reshape(4, -1)
        weights = np.ascontiguousarray(planes.T).view("<f4").reshape(-1)
        return cls(weights=weights.astype(np.float32), bias=header["bias"],
                   calibration=tuple(header["calibration"]),
                   feature_version=header["feature_version"], info=header["info"])


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
