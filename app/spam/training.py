"""Training the spam model on moderators' decisions (background worker only: imports scikit-learn).

The local model is a logistic regression on this site's decisions, spam and not-spam weighted alike,
calibrated (Platt scaling: local(x) = a * (w . x + b) + c) on its own cross-validated decision values,
spam and not-spam weighted alike again. The shipped base model fades as decisions accumulate: the new
model's raw log-odds are

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
# The local model is calibrated on the site's own decisions, so it can be trusted early.
BASE_HALF_LIFE = 25
# Inverse strength of the L2 penalty (features: see features.BLOCK_POWER).
C = 10.0
# Class weights make the model's log-odds those of a site where half the comments are spam; most
# comments are not. This shift (odds x 0.61) keeps ordinary comments that merely share a few words
# with spam ("my", "please", "follow") below the hold threshold. Measured by make spam-bench.
PRIOR_SHIFT = -0.5
# The local model is calibrated, and its cross-validated AUC reported, when both classes have at least
# this many decisions; the five more fits this takes read the latest CV_MAX_EXAMPLES decisions at most
# (too slow beyond), and the AUC is reported only when that is all of them.
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

    On one thread: the worker shares the machine with the web servers, and the thread pools of the
    numerical libraries (OpenMP, BLAS) keep spinning after a fit, taking CPU from whatever runs next.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _train(examples, base)


def _train(examples: list[Example], base: Model | None) -> tuple[Model, dict]:
    started = time.perf_counter()
    features = [extract(e.text, e.context) for e in examples]
    labels = np.array([1 if e.label else 0 for e in examples], dtype=np.int64)
    spam = int(labels.sum())
    n = len(examples)
    share = base_share(spam, n - spam) if base is not None else 0.0

    metrics = {"examples": n, "spam": spam}
    scale, offset = 1.0, 0.0
    if 0 < spam < n:
        matrix = feature_matrix(features)
        local = fit_logistic(matrix, labels)
        if min(spam, n - spam) >= CV_MIN_PER_CLASS:
            recent = slice(max(0, n - CV_MAX_EXAMPLES), n)
            if min(labels[recent].sum(), len(labels[recent]) - labels[recent].sum()) >= CV_MIN_PER_CLASS:
                values = _cv_decision_values(matrix[recent], labels[recent])
                scale, offset = platt(values, labels[recent])
                if n <= CV_MAX_EXAMPLES:
                    metrics["cv_auc"] = round(_auc(values, labels), 4)
        if base is None:
            # Weights and bias as scikit-learn fitted them; the calibration says how to read them.
            weights = local.feature_weights()
            bias = float(local.estimator.intercept_[0])
        else:
            weights = (1.0 - share) * scale * local.feature_weights()
            bias = (1.0 - share) * (scale * float(local.estimator.intercept_[0]) + offset)
            scale, offset = 1.0, 0.0
    else:
        # One kind of decision only: nothing to separate. Keep the base, or (no base) the log-odds
        # of spam seen so far, smoothed, as a constant.
        share = 1.0 if base is not None else 0.0
        weights = np.zeros(N_FEATURES)
        bias = 0.0 if base is not None else float(np.log((spam + 1) / (n - spam + 1)))
    if base is not None:
        weights += share * base.calibration[0] * base.weights.astype(np.float64)
        bias += share * (base.calibration[0] * base.bias + base.calibration[1] - PRIOR_SHIFT)
    metrics = {"examples": n, "spam": spam, "base_share": round(share, 4), **metrics}

    # The model's info leaves the time out: the same decisions must give the same bytes.
    model = Model(weights=weights.astype(np.float32), bias=bias, calibration=(scale, offset + PRIOR_SHIFT),
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


def platt(values: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Platt scaling: (a, c) such that sigmoid(a * value + c) is the probability of spam, fitted on
    decision values the model did not train on, spam and not-spam weighted alike (as the model was:
    PRIOR_SHIFT stays the only prior). The targets are Platt's (N+ + 1) / (N+ + 2) and 1 / (N- + 2),
    not 1 and 0, so that values that separate the classes perfectly do not make a and c infinite.
    (1, 0) when the values say nothing useful (a would not be positive).

    The log loss of two parameters, minimised by scipy's L-BFGS-B: the same optimum as
    scikit-learn's unpenalised weighted logistic regression, for a fraction of its overhead.
    """
    from scipy.optimize import minimize

    values = np.asarray(values, dtype=np.float64)
    spam = int(labels.sum())
    ham = len(labels) - spam
    target = np.where(labels == 1, (spam + 1) / (spam + 2), 1 / (ham + 2))
    weight = np.where(labels == 1, len(labels) / (2 * spam), len(labels) / (2 * ham))

    def loss_and_gradient(params: np.ndarray) -> tuple[float, np.ndarray]:
        z = params[0] * values + params[1]
        residual = weight * (np.exp(-np.logaddexp(0.0, -z)) - target)  # weight * (sigmoid(z) - target)
        loss = float(np.sum(weight * (np.logaddexp(0.0, z) - target * z)))
        return loss, np.array([np.dot(residual, values), residual.sum()])

    prior = float(np.log(np.sum(weight * target) / np.sum(weight * (1 - target))))
    fitted = minimize(loss_and_gradient, np.array([0.0, prior]), jac=True, method="L-BFGS-B",
                      options={"gtol": 1e-10, "ftol": 1e-15, "maxiter": 1000})
    a, c = (float(value) for value in fitted.x)
    return (a, c) if a > 0 and np.isfinite(a) and np.isfinite(c) else (1.0, 0.0)


def _cv_decision_values(matrix, labels: np.ndarray) -> np.ndarray:
    """Five-fold cross-validated decision values of the local model alone (each decision scored by a
    model that did not see it)."""
    from sklearn.model_selection import StratifiedKFold

    values = np.zeros(len(labels))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for fit_rows, test_rows in folds.split(matrix, labels):
        local = fit_logistic(matrix[fit_rows], labels[fit_rows])
        values[test_rows] = local.estimator.decision_function(local.design(matrix[test_rows]))
    return values


def _auc(values: np.ndarray, labels: np.ndarray) -> float:
    """AUC of the cross-validated values: what the site's decisions support."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, values))
