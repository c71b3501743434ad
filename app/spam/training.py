"""Training the spam model on moderators' decisions (background worker only: imports scikit-learn).

The local model is a logistic regression on this site's decisions, spam and not-spam weighted alike.
The shipped base model fades as decisions accumulate: the new model's raw log-odds are

    s * base_raw(x) + (1 - s) * local(x),    s = BASE_HALF_LIFE / (BASE_HALF_LIFE + effective decisions)

and its score is sigmoid(raw + PRIOR_SHIFT). Both parts are linear in the same features, so the blend
is itself one linear model (weights and bias blended) that Model.score computes without knowing how it
was made.
"""
import time
from dataclasses import dataclass

import numpy as np

from app.spam.features import N_FEATURES, Context, Features, extract
from app.spam.scorer import Model

# The base model keeps half of the blend after this many (effective) decisions, a third after twice as many.
BASE_HALF_LIFE = 50
# Inverse strength of the L2 penalty (features are scaled to unit length per block).
C = 10.0
# Class weights make the model's log-odds those of a site where half the comments are spam; most
# comments are not. This shift (odds x 0.61) keeps ordinary comments that merely share a few words
# with spam ("my", "please", "follow") below the hold threshold. Measured by make spam-bench.
PRIOR_SHIFT = -0.5
# Cross-validated AUC is reported when both classes have at least this many decisions, and at most
# this many decisions in all (five more fits: too slow beyond).
CV_MIN_PER_CLASS = 10
CV_MAX_EXAMPLES = 3000


@dataclass
class Example:
    text: str
    context: Context
    label: int  # 1 spam, 0 not spam


def train(examples: list[Example], base: Model | None = None) -> tuple[Model, dict]:
    """A model from moderators' decisions, faded in over the base model; and what it was trained on.

    The metrics: examples, spam, base_share (the base's part of the blend), cv_auc when there are
    enough decisions of each kind, seconds.
    """
    started = time.perf_counter()
    features = [extract(e.text, e.context) for e in examples]
    labels = np.array([1 if e.label else 0 for e in examples], dtype=np.int64)
    spam = int(labels.sum())
    n = len(examples)
    share = base_share(spam, n - spam) if base is not None else 0.0

    if 0 < spam < n:
        local = fit_logistic(feature_matrix(features), labels)
        weights = (1.0 - share) * local.feature_weights()
        bias = (1.0 - share) * float(local.estimator.intercept_[0])
    else:
        # One kind of decision only: nothing to separate. Keep the base, or (no base) the log-odds
        # of spam seen so far, smoothed, as a constant.
        share = 1.0 if base is not None else 0.0
        weights = np.zeros(N_FEATURES)
        bias = 0.0 if base is not None else float(np.log((spam + 1) / (n - spam + 1)))
    if base is not None:
        weights += share * base.calibration[0] * base.weights.astype(np.float64)
        bias += share * (base.calibration[0] * base.bias + base.calibration[1] - PRIOR_SHIFT)

    metrics = {"examples": n, "spam": spam, "base_share": round(share, 4)}
    if min(spam, n - spam) >= CV_MIN_PER_CLASS and n <= CV_MAX_EXAMPLES:
        metrics["cv_auc"] = round(_cv_auc(features, labels), 4)
    # The model's info leaves the time out: the same decisions must give the same bytes.
    model = Model(weights=weights.astype(np.float32), bias=bias, calibration=(1.0, PRIOR_SHIFT),
                  info=dict(metrics))
    metrics["seconds"] = round(time.perf_counter() - started, 3)
    return model, metrics


def base_share(spam: int, not_spam: int) -> float:
    """How much of the base model is left after these local decisions.

    What the local model knows is limited by its rarer class: 190 spam and 10 approvals teach it
    little about ordinary comments. So decisions count as the effective size of a balanced set,
    4 * spam * not_spam / n (n when balanced, 38 for 190 + 10).
    """
    total = spam + not_spam
    effective = 4 * spam * not_spam / total if total else 0.0
    return BASE_HALF_LIFE / (BASE_HALF_LIFE + effective)


@dataclass
class LocalFit:
    """A fitted scikit-learn estimator and the feature columns it was given (coef_[0][k] is the
    weight of feature columns[k])."""
    estimator: object
    columns: np.ndarray

    def design(self, matrix):
        """What the estimator takes, from a CSR matrix of N_FEATURES columns."""
        return matrix[:, self.columns]

    def feature_weights(self) -> np.ndarray:
        weights = np.zeros(N_FEATURES)
        weights[self.columns] = self.estimator.coef_[0]
        return weights


def fit_logistic(matrix, labels: np.ndarray) -> LocalFit:
    """The local model: L2-penalised logistic regression with balanced class weights, deterministic.

    Only the columns some comment uses are given to the solver: a column that is zero everywhere
    gets weight 0 under an L2 penalty anyway, and leaving the other ~100,000 out makes a fit many
    times faster.
    """
    from sklearn.linear_model import LogisticRegression

    fit = LocalFit(None, np.unique(matrix.indices))
    # The dual problem: with more features than decisions it is solved ~8 times faster (0.5 s for
    # 10,000 decisions) for the same optimum.
    fit.estimator = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", dual=True,
                                       max_iter=1000, random_state=0).fit(fit.design(matrix), labels)
    return fit


def feature_matrix(features: list[Features]):
    """The features of many comments as one CSR matrix of N_FEATURES columns (float64)."""
    from scipy.sparse import csr_matrix

    indptr = np.zeros(len(features) + 1, dtype=np.int64)
    np.cumsum([len(f.indices) for f in features], out=indptr[1:])
    if not features:
        return csr_matrix((0, N_FEATURES))
    indices = np.concatenate([f.indices for f in features])
    values = np.concatenate([f.values for f in features]).astype(np.float64)
    return csr_matrix((values, indices, indptr), shape=(len(features), N_FEATURES))


def _cv_auc(features: list[Features], labels: np.ndarray) -> float:
    """Five-fold cross-validated AUC of the local model alone (what the site's decisions support)."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    matrix = feature_matrix(features)
    scores = np.zeros(len(labels))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for fit_rows, test_rows in folds.split(matrix, labels):
        local = fit_logistic(matrix[fit_rows], labels[fit_rows])
        scores[test_rows] = local.estimator.decision_function(local.design(matrix[test_rows]))
    return float(roc_auc_score(labels, scores))
