"""The base model shipped with Causerie: what the filter knows before this site's moderators decide anything.

Built by scripts/build_spam_base.py from the YouTube Spam Collection (attribution in NOTICE).
"""
from functools import lru_cache
from pathlib import Path

from app.spam.scorer import Model

BASE_MODEL_PATH = Path(__file__).resolve().parent / "data" / "base_model.bin"


@lru_cache(maxsize=1)
def base_model() -> Model:
    """The shipped base model, read once per process."""
    return Model.from_bytes(BASE_MODEL_PATH.read_bytes())
