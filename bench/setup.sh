#!/usr/bin/env bash
# Creates bench/.venv with the pinned reference frameworks (CPU use only);
# scikit-learn is the reference for manabi's label spreading / propagation
# (graph_sklearn.py).
# PyPI's default torch wheel for Linux pulls the CUDA runtime wheels too
# (several GB); they are unused here but harmless.
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --disable-pip-version-check \
    torch==2.15.0 \
    tensorflow-cpu==2.21.0 \
    keras==3.15.1 \
    numpy==2.4.6 \
    scikit-learn==1.9.1
.venv/bin/python - <<'PY'
import numpy, sklearn, torch, keras, tensorflow as tf
print("numpy", numpy.__version__, "| torch", torch.__version__,
      "| tensorflow", tf.__version__, "| keras", keras.__version__,
      "| scikit-learn", sklearn.__version__)
PY
