"""Settings are layered (app/config.py): the defaults, then instance/config.py, then environment variables
parsed by the default's type, then the test_config given to create_app; each layer wins over the ones before.

The layering is create_app's ``_configure``; these tests run it on a bare Flask app whose instance folder is
a temporary directory, so no test ever writes into the real instance/."""
import pytest
from flask import Flask

from app import _configure, create_app
from app.config import DEFAULTS


@pytest.fixture
def clean_env(monkeypatch):
    """No setting comes from the environment of whoever runs the tests (DATABASE_URL, for one)."""
    for name in DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def instance(tmp_path):
    return tmp_path / "instance"


def configured(instance, test_config=None) -> dict:
    instance.mkdir(exist_ok=True)
    app = Flask("app", instance_path=str(instance), instance_relative_config=True)
    _configure(app, test_config)
    return app.config


def write_instance_config(instance, text: str) -> None:
    instance.mkdir(exist_ok=True)
    (instance / "config.py").write_text(text)


def test_defaults_apply_when_nothing_else_is_set(clean_env, instance):
    config = configured(instance)
    for name in ("MAX_DEPTH", "ALLOWED_ORIGINS", "AUTO_CREATE_ARTICLES", "RATELIMIT_POST", "PREMODERATION"):
        assert config[name] == DEFAULTS[name], name
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'causerie.sqlite3'}"


def test_the_instance_file_overrides_the_defaults(clean_env, instance):
    write_instance_config(instance, 'MAX_DEPTH = 7\nALLOWED_ORIGINS = "https://instance.example"\n'
                                    "AUTO_CREATE_ARTICLES = False\n")
    config = configured(instance)
    assert (config["MAX_DEPTH"], config["ALLOWED_ORIGINS"], config["AUTO_CREATE_ARTICLES"]) == (
        7, "https://instance.example", False)
    assert config["EDIT_WINDOW_MINUTES"] == DEFAULTS["EDIT_WINDOW_MINUTES"]


def test_the_environment_overrides_the_instance_file(clean_env, instance):
    write_instance_config(instance, 'MAX_DEPTH = 7\nALLOWED_ORIGINS = "https://instance.example"\n')
    clean_env.setenv("MAX_DEPTH", "9")
    config = configured(instance)
    assert config["MAX_DEPTH"] == 9
    assert config["ALLOWED_ORIGINS"] == "https://instance.example"  # not in the environment: the file's


def test_test_config_overrides_the_environment(clean_env, instance):
    write_instance_config(instance, "MAX_DEPTH = 7\n")
    clean_env.setenv("MAX_DEPTH", "9")
    clean_env.setenv("PREMODERATION", "all")
    config = configured(instance, {"MAX_DEPTH": 11})
    assert (config["MAX_DEPTH"], config["PREMODERATION"]) == (11, "all")


@pytest.mark.parametrize("raw, expected", [
    ("1", True), ("true", True), ("TRUE", True), (" yes ", True), ("on", True),
    ("0", False), ("false", False), ("no", False), ("off", False), ("", False), ("maybe", False),
])
def test_booleans_from_the_environment(clean_env, instance, raw, expected):
    clean_env.setenv("AUTO_CREATE_ARTICLES", raw)
    clean_env.setenv("ANONYMIZE_ON_DELETE", raw)
    config = configured(instance)
    assert config["AUTO_CREATE_ARTICLES"] is expected
    assert config["ANONYMIZE_ON_DELETE"] is expected


def test_numbers_and_strings_from_the_environment(clean_env, instance):
    clean_env.setenv("MAX_COMMENT_LENGTH", "1234")
    clean_env.setenv("THREAD_CACHE_BYTES", "0")
    clean_env.setenv("ALLOWED_ORIGINS", "https://a.example, https://b.example")
    clean_env.setenv("RATELIMIT_POST", "5 per minute")
    config = configured(instance)
    assert config["MAX_COMMENT_LENGTH"] == 1234 and config["THREAD_CACHE_BYTES"] == 0
    assert config["ALLOWED_ORIGINS"] == "https://a.example, https://b.example"
    assert config["RATELIMIT_POST"] == "5 per minute"


def test_a_number_that_is_not_one_stops_the_start(clean_env, instance):
    clean_env.setenv("MAX_DEPTH", "thirty")
    with pytest.raises(ValueError):
        configured(instance)


def test_only_known_settings_are_read_from_the_environment(clean_env, instance):
    clean_env.setenv("TESTING", "1")
    clean_env.setenv("SQLALCHEMY_ECHO", "1")
    config = configured(instance)
    assert not config.get("TESTING") and not config.get("SQLALCHEMY_ECHO")


def test_the_database_url_goes_through_every_layer(clean_env, instance):
    write_instance_config(instance, 'DATABASE_URL = "postgres://file@db/causerie"\n')
    assert configured(instance)["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://file@db/causerie"
    clean_env.setenv("DATABASE_URL", "postgresql://env@db/causerie")
    assert configured(instance)["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://env@db/causerie"
    config = configured(instance, {"DATABASE_URL": "sqlite:///given.sqlite3"})
    assert config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///given.sqlite3"


def test_a_secret_key_is_made_once_into_the_instance_folder(clean_env, instance):
    first = configured(instance)["SECRET_KEY"]
    assert len(first) == 64 and (instance / "secret_key").read_text().strip() == first
    assert configured(instance)["SECRET_KEY"] == first
    clean_env.setenv("SECRET_KEY", "from-the-environment")
    assert configured(instance)["SECRET_KEY"] == "from-the-environment"


def test_create_app_layers_the_environment_under_test_config(clean_env, migrated, tmp_path):
    clean_env.setenv("MAX_COMMENT_LENGTH", "321")
    clean_env.setenv("EDIT_WINDOW_MINUTES", "4")
    clean_env.setenv("SESSION_COOKIE_SECURE", "true")
    app = create_app({"TESTING": True, "DATABASE_URL": migrated, "SECRET_KEY": "k", "EDIT_WINDOW_MINUTES": 6})
    assert app.config["MAX_COMMENT_LENGTH"] == 321
    assert app.config["EDIT_WINDOW_MINUTES"] == 6
    # Settings derived from the layered values: a Secure cookie is a cross-site, partitioned one.
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert (app.config["SESSION_COOKIE_SAMESITE"], app.config["SESSION_COOKIE_PARTITIONED"]) == ("None", True)
