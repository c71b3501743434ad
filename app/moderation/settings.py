"""The moderation settings saved through the API (NULL columns fall back to config)."""
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..database import run, writing
from ..errors import validation_error
from ..extensions import db
from ..models import ModerationSettings, Premoderation, values

SETTING_FIELDS = ("premoderation", "trusted_after", "max_links", "banned_words", "suspect_words",
                  "flag_threshold", "edit_window_minutes")


_CONFIG_NAMES = {name: name.upper() for name in SETTING_FIELDS}


def _word_list(value) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    return [str(item).strip() for item in items if str(item).strip()]


def stored_columns():
    """The columns of the settings row, in SETTING_FIELDS order: for a query that reads them beside
    something else (the spam filter's reading, on every post)."""
    return [getattr(ModerationSettings, name) for name in SETTING_FIELDS]


# A plain row, not an entity: every post reads it.
_SETTINGS_ROW = select(*stored_columns()).where(ModerationSettings.id == 1)


def effective_settings() -> dict:
    """The stored settings row (id 1), its NULL columns falling back to config."""
    return settings_from(run(_SETTINGS_ROW).first())


def settings_from(stored) -> dict:
    """The effective settings of the stored values (in SETTING_FIELDS order; None: no row)."""
    config = current_app.config
    settings = {}
    for name, value in zip(SETTING_FIELDS, stored if stored is not None else [None] * len(SETTING_FIELDS)):
        settings[name] = value if value is not None else config.get(_CONFIG_NAMES[name])
    settings["banned_words"] = _word_list(settings["banned_words"])
    settings["suspect_words"] = _word_list(settings["suspect_words"])
    for name in ("trusted_after", "max_links", "flag_threshold", "edit_window_minutes"):
        settings[name] = int(settings[name])
    if settings["premoderation"] not in values(Premoderation):
        settings["premoderation"] = Premoderation.NONE.value
    return settings


def update_settings(fields: dict) -> dict:
    """Store the given (already validated) settings; answers the whole effective settings.
    ``None`` is not a value (422)."""
    unknown = set(fields) - set(SETTING_FIELDS)
    if unknown:
        raise validation_error({name: "is not a setting" for name in unknown})
    for name, value in fields.items():
        if value is None:
            raise validation_error({name: "must not be null"})
    with writing():
        _store_settings(fields)
    return effective_settings()


def _store_settings(fields: dict) -> None:
    row = db.session.get(ModerationSettings, 1, with_for_update=True)
    if row is None:
        try:
            with db.session.begin_nested():
                row = ModerationSettings(id=1)
                db.session.add(row)
        except IntegrityError:  # another admin saved the first settings at the same moment
            row = db.session.get(ModerationSettings, 1, with_for_update=True, populate_existing=True)
    for name, value in fields.items():
        setattr(row, name, list(value) if isinstance(value, (list, tuple)) else value)
    db.session.flush()


