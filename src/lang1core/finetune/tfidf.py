"""TF-IDF + logistic regression per task: the cheap classic baseline.

Word uni- and bigrams (sublinear tf, min_df 2, at most `max_features`) and an L2 logistic
regression whose C is picked on the validation split from a small grid.
"""

from __future__ import annotations

import logging

import numpy as np

from lang1core.finetune.data import TaskData, auroc

log = logging.getLogger(__name__)


class TfidfBaseline:
    def __init__(self, max_features: int = 50000, cs=(0.1, 1.0, 10.0), seed: int = 0):
        self.max_features, self.cs, self.seed = max_features, cs, seed

    def fit(self, train: TaskData, val: TaskData | None = None) -> "TfidfBaseline":
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        if len(train) == 0:
            raise ValueError(f"{train.source}: no training examples for TF-IDF")
        self.k = len(train.options)
        self.vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True,
                                   min_df=2 if len(train) > 50 else 1,
                                   max_features=self.max_features)
        X = self.vec.fit_transform(train.texts)
        if len(np.unique(train.labels)) < 2:
            # Nothing to discriminate: predict the training prior (every score tied, AUROC
            # 0.5), so the run still writes its predictions; said in the log.
            log.warning("%s: a single class (%d) in the training labels; TF-IDF predicts "
                        "the prior", train.source, int(train.labels[0]))
            self.clf, self.c = _Prior(int(train.labels[0])), None
            return self
        best = None
        for c in self.cs:
            clf = LogisticRegression(C=c, max_iter=2000, random_state=self.seed)
            clf.fit(X, train.labels)
            self.clf = clf
            score = auroc(val.labels, self.predict(val)) if val is not None and len(val) else None
            log.info("C=%g: validation AUROC %s", c, score)
            if best is None or (score is not None and score > best[0]):
                best = (score if score is not None else -np.inf, clf, c)
        self.clf, self.c = best[1], best[2]
        return self

    def predict(self, data: TaskData) -> np.ndarray:
        """Probabilities [N, K] in option order (0 for classes absent from training)."""
        out = np.zeros((len(data), self.k))
        if len(data):
            p = self.clf.predict_proba(self.vec.transform(data.texts))
            out[:, self.clf.classes_] = p
        return out


class _Prior:
    """Stand-in classifier for a single-class training split."""

    def __init__(self, label: int):
        self.classes_ = np.array([label])

    def predict_proba(self, X) -> np.ndarray:
        return np.ones((X.shape[0], 1))
