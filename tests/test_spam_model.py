"""The spam filter's model core: features, scorer, training and the shipped base model (no database)."""
import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.spam import training
from app.spam.base_model import BASE_MODEL_PATH, base_model
from app.spam.features import MAX_CHARS, WORD_SPACE, Context, extract
from app.spam.scorer import Model
from app.spam.training import Example, base_share, feature_matrix, fit_logistic, train

ROOT = Path(__file__).resolve().parent.parent

SPAM = [
    "check out my channel and subscribe http://bit.ly/{n}",
    "Hey guys please subscribe to my channel, new video every week {n}",
    "FREE gift cards here www.free-cards{n}.com click now",
    "follow me on instagram @promo{n} follow for follow",
    "earn $500 a day from home, visit my profile {n}",
    "Like and share my music video!!! link in my profile {n}",
]
HAM = [
    "I think the second half of the article is wrong about {n} things",
    "thanks, that fixed it for me. restarting was enough",
    "my grandmother made this every sunday, great memories",
    "Where was the photo number {n} taken? beautiful place",
    "lol same thing happened to me last week",
    "the bus was late again this morning, {n} minutes",
]


def make_examples(rounds: int = 4) -> list[Example]:
    examples = []
    for n in range(rounds):
        examples += [Example(text.format(n=n), Context(first_comment=n == 0), 1) for text in SPAM]
        examples += [Example(text.format(n=n), Context(author_approved=n), 0) for text in HAM]
    return examples


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def test_a_plain_model_scores_like_scikit_learn(monkeypatch):
    monkeypatch.setattr(training, "PRIOR_SHIFT", 0.0)
    examples = make_examples(rounds=1)  # too few of each kind to calibrate
    model, metrics = train(examples)
    assert model.calibration == (1.0, 0.0) and metrics["base_share"] == 0.0

    features = [extract(e.text, e.context) for e in examples]
    matrix = feature_matrix(features)
    local = fit_logistic(matrix, np.array([e.label for e in examples]))
    expected = local.estimator.predict_proba(local.design(matrix))[:, 1]
    assert max(abs(model.score(f) - p) for f, p in zip(features, expected)) < 1e-6
    assert all(model.score(f) > 0.5 for f, e in zip(features, examples) if e.label)
    assert all(model.score(f) < 0.5 for f, e in zip(features, examples) if not e.label)


def test_a_calibrated_model_scores_like_scikit_learn_with_platt_scaling(monkeypatch):
    monkeypatch.setattr(training, "PRIOR_SHIFT", 0.0)
    examples = make_examples()
    labels = np.array([e.label for e in examples])
    model, metrics = train(examples)

    features = [extract(e.text, e.context) for e in examples]
    matrix = feature_matrix(features)
    local = fit_logistic(matrix, labels)
    # Platt scaling fitted by scikit-learn on cross-validated decision values, read as its predict_proba.
    values = training._cv_decision_values(matrix, labels)
    scale, shift = training.platt(values, labels)
    assert model.calibration == (scale, shift) and scale > 0
    assert metrics["cv_auc"] == round(training._auc(values, labels), 4)
    from sklearn.linear_model import LogisticRegression
    platt = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    platt.coef_, platt.intercept_ = np.array([[scale]]), np.array([shift])
    decision = local.estimator.decision_function(local.design(matrix))
    expected = platt.predict_proba(decision.reshape(-1, 1))[:, 1]
    assert max(abs(model.score(f) - p) for f, p in zip(features, expected)) < 1e-6
    assert all(model.score(f) > 0.5 for f, e in zip(features, examples) if e.label)
    assert all(model.score(f) < 0.5 for f, e in zip(features, examples) if not e.label)


def test_platt_scaling_is_scikit_learns_weighted_fit_finite_on_separated_values_never_inverted():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    for spam, ham in ((20, 20), (183, 17), (30, 300)):
        labels = np.array([1] * spam + [0] * ham)
        values = np.concatenate([rng.normal(1.0, 1.5, spam), rng.normal(-1.0, 1.5, ham)])
        # The same fit as scikit-learn's (practically unpenalised), on Platt's targets, classes balanced.
        target = np.where(labels == 1, (spam + 1) / (spam + 2), 1 / (ham + 2))
        balance = np.where(labels == 1, len(labels) / (2 * spam), len(labels) / (2 * ham))
        fit = LogisticRegression(C=1e8, tol=1e-12, max_iter=10_000).fit(
            np.concatenate([values, values]).reshape(-1, 1), [1] * len(values) + [0] * len(values),
            sample_weight=np.concatenate([target * balance, (1 - target) * balance]))
        assert training.platt(values, labels) == pytest.approx((fit.coef_[0, 0], fit.intercept_[0]), abs=1e-5)
    labels = np.array([0] * 20 + [1] * 20)
    scale, shift = training.platt(np.linspace(-3, 3, 40), labels)
    assert 0 < scale < 50 and abs(shift) < 5
    assert training.platt(-np.linspace(-3, 3, 40), labels) == (1.0, 0.0)


def test_the_blend_with_the_base_is_the_formula_model_score_computes():
    examples = make_examples(rounds=2)
    labels = np.array([e.label for e in examples])
    base = base_model()
    model, metrics = train(examples, base)
    share = base_share(12, 12)
    assert metrics["base_share"] == round(share, 4) and 0.5 < share < 0.9

    features = [extract(e.text, e.context) for e in examples]
    matrix = feature_matrix(features)
    local = fit_logistic(matrix, labels)
    a, c = training.platt(training._cv_decision_values(matrix, labels), labels)
    scale, shift = base.calibration
    base_raw = scale * (matrix @ base.weights.astype(np.float64) + base.bias) + shift - training.PRIOR_SHIFT
    local_raw = a * local.estimator.decision_function(local.design(matrix)) + c
    expected = sigmoid(share * base_raw + (1 - share) * local_raw + training.PRIOR_SHIFT)
    assert max(abs(model.score(f) - p) for f, p in zip(features, expected)) < 1e-6


def test_the_base_fades_as_decisions_accumulate_and_one_kind_alone_keeps_it():
    assert base_share(0, 0) == 1.0
    assert base_share(50, 50) > base_share(100, 100) > base_share(1000, 1000)
    # 190 spam and 10 approvals say less than 100 of each.
    assert base_share(190, 10) > base_share(100, 100)
    base = base_model()
    only_spam = [Example(text.format(n=1), Context(), 1) for text in SPAM]
    model, metrics = train(only_spam, base)
    assert metrics["base_share"] == 1.0
    features = extract("lovely photos, thanks for sharing", Context())
    assert model.score(features) == pytest.approx(base.score(features), abs=1e-6)


def test_bytes_round_trip_gives_the_same_model_and_scores():
    model, _ = train(make_examples(), base_model())
    data = model.to_bytes()
    again = Model.from_bytes(data)
    assert again.to_bytes() == data
    for e in make_examples(rounds=1):
        features = extract(e.text, e.context)
        assert again.score(features) == model.score(features)
        assert again.explain(features) == model.explain(features)
    assert again.info == model.info and again.feature_version == model.feature_version
    assert len(data) < 5_000_000
    with pytest.raises(ValueError):
        Model.from_bytes(b"not a model")


def test_the_shipped_base_model_is_small_and_knows_spam_from_chat():
    assert BASE_MODEL_PATH.stat().st_size < 400_000
    model = base_model()
    spam = extract("Check out my new channel and subscribe!! http://bit.ly/xyz", Context(first_comment=True))
    chat = extract("Thanks, that fixed it for me", Context(first_comment=True))
    assert model.score(spam) >= 0.9 > 0.5 > model.score(chat)
    reasons = model.explain(spam, n=3)
    assert len(reasons) == 3 and all(push > 0 for _, push in reasons)
    assert [push for _, push in reasons] == sorted((push for _, push in reasons), reverse=True)
    assert {"subscribe", "a link", "channel", "check out", "1 link"} & {term for term, _ in reasons}


def test_only_the_first_1000_characters_count():
    head = ("a perfectly ordinary remark about the weather " * 30)[:MAX_CHARS]
    plain = extract(head, Context())
    padded = extract(head + " subscribe to my channel http://spam.example/" * 20, Context())
    assert np.array_equal(plain.indices, padded.indices)
    assert np.array_equal(plain.values, padded.values)
    assert plain.terms == padded.terms


def test_case_width_entities_and_invisible_characters_do_not_change_words():
    def words_and_ngrams(features):
        return ([term for term in features.terms if term[0] != "shouting"],
                features.indices[features.indices >= WORD_SPACE].tolist())

    plain = words_and_ngrams(extract("subscribe to my channel & win", Context()))
    for disguised in ("SUBSCRIBE to my CHANNEL &amp; win", "ｓｕｂｓｃｒｉｂｅ to my channel & win",
                      "sub\u200bscribe to my chan\u00adnel & win\ufeff"):
        assert words_and_ngrams(extract(disguised, Context())) == plain


def test_links_and_context_become_features():
    features = extract("see www.Example.com/page and https://shop.example.co.uk/x", Context(
        link_domains=("tracker.example.net",), author_approved=3, first_comment=True))
    terms = {term for term, _ in features.terms}
    assert {"a link", "3+ links", "link to example.com", "link to shop.example.co.uk",
            "link to example.co.uk", "link to tracker.example.net", "link to example.net"} <= terms
    assert "www" not in terms and "https" not in terms
    assert not np.array_equal(features.indices, extract(
        "see www.Example.com/page and https://shop.example.co.uk/x", Context()).indices)


FEATURES_SCRIPT = """
import json, sys
from app.spam.features import Context, extract
out = []
for text in json.loads(sys.argv[1]):
    f = extract(text, Context(link_domains=("bit.ly",), author_approved=2, first_comment=True))
    out.append([f.indices.tolist(), f.values.tolist(), [[label, list(ix)] for label, ix in f.terms]])
print(json.dumps(out))
"""


def run_python(code: str, *args: str, hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    result = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=True)
    return result.stdout


def test_features_are_the_same_in_every_process():
    texts = [e.text for e in make_examples(rounds=1)] + ["Ça va? 👍 très bien", ""]
    seed = "987654" if os.environ.get("PYTHONHASHSEED") != "987654" else "1"
    there = json.loads(run_python(FEATURES_SCRIPT, json.dumps(texts), hash_seed=seed))
    here = [extract(text, Context(link_domains=("bit.ly",), author_approved=2, first_comment=True))
            for text in texts]
    assert there == [[f.indices.tolist(), f.values.tolist(), [[label, list(indices)] for label, indices in f.terms]]
                     for f in here]


def test_scoring_does_not_import_scikit_learn():
    code = ("import sys\nfrom app.spam.base_model import base_model\nfrom app.spam.features import Context, extract\n"
            "model = base_model()\nf = extract('check out my channel http://bit.ly/x', Context())\n"
            "model.score(f); model.explain(f)\nprint(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('sklearn', 'scipy')))")
    assert run_python(code, hash_seed="0").strip() == "[]"


def test_training_and_scoring_never_open_a_connection(monkeypatch):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access during spam training or scoring")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    base_model.cache_clear()
    try:
        model, metrics = train(make_examples(rounds=3), base_model())
        score = model.score(extract("visit http://bit.ly/abc for free followers", Context()))
    finally:
        base_model.cache_clear()
    assert "cv_auc" in metrics and 0 <= score <= 1
    assert attempts == []


def test_an_empty_or_unreadable_comment_still_gets_a_score():
    # How fast scoring is belongs to make spam-bench (p50/p99), not to a timed test.
    model = base_model()
    for text in ("", " \u200b ", "<br>", "&nbsp;" * 3, "\ufe0f" * 10):
        score = model.score(extract(text, Context()))
        assert not math.isnan(score) and 0.0 <= score <= 1.0
