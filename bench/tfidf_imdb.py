"""TF-IDF + logistic regression on IMDB from few labels (issue 10's classical baseline).

Trains on exactly the labelled reviews of a manabi run (its labelled.json names them by their
path in the archive) and tests on all 25,000 test reviews. The regularisation C is chosen by
5-fold cross-validation on the labelled reviews only (never on test labels).

    bench/.venv/bin/python bench/tfidf_imdb.py --run runs/imdb_1000_scratch \
        --data-dir ../shared/datasets --out bench/results/tfidf_imdb_1000_seed1.json
"""

import argparse
import json
import tarfile
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegressionCV


def read_reviews(archive, wanted_prefixes):
    """Path -> (text, label) for the reviews under the given folders."""
    out = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            name = member.name[2:] if member.name.startswith("./") else member.name
            for prefix, label in wanted_prefixes:
                if name.startswith(prefix) and name.endswith(".txt") and "/" not in name[len(prefix):]:
                    text = tar.extractfile(member).read().decode("utf-8", errors="replace")
                    out[name] = (text.replace("<br />", " "), label)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True, help="a manabi run folder with labelled.json")
    ap.add_argument("--data-dir", default="../shared/datasets")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    started = time.time()
    labelled = json.loads((Path(args.run) / "labelled.json").read_text())
    names = labelled["names"]
    archive = Path(args.data_dir) / "imdb" / "aclImdb_v1_labeled.tar.gz"
    reviews = read_reviews(
        archive,
        [
            ("aclImdb/train/neg/", 0),
            ("aclImdb/train/pos/", 1),
            ("aclImdb/test/neg/", 0),
            ("aclImdb/test/pos/", 1),
        ],
    )
    train = [reviews[n] for n in names]
    test = [v for k, v in sorted(reviews.items()) if k.startswith("aclImdb/test/")]
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    x_train = vec.fit_transform([t for t, _ in train])
    y_train = np.array([l for _, l in train])
    clf = LogisticRegressionCV(
        Cs=[0.1, 0.3, 1, 3, 10, 30, 100], cv=5, max_iter=2000, scoring="accuracy"
    )
    clf.fit(x_train, y_train)
    x_test = vec.transform([t for t, _ in test])
    y_test = np.array([l for _, l in test])
    acc = float((clf.predict(x_test) == y_test).mean())
    result = {
        "method": "tfidf_logistic_regression",
        "run": str(args.run),
        "labels": len(train),
        "subset_seed": labelled.get("subset_seed"),
        "C": float(clf.C_[0]),
        "features": int(x_train.shape[1]),
        "test_reviews": len(test),
        "test_accuracy": acc,
        "seconds": time.time() - started,
    }
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
