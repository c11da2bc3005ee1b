import pytest
from jobrunner_worker.settings import SettingsError, WorkerSettings, load_settings, settings_help

WORKER_VARS = [name.upper() for name in WorkerSettings.model_fields]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in WORKER_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults(monkeypatch):
    monkeypatch.setenv("API_KEY", "k")
    settings = load_settings()
    assert settings.master_url == "http://localhost:8080"
    assert settings.worker_capacity == 1
    assert settings.labels == []
    assert settings.worker_name  # the host name
    assert settings.max_line_bytes == 64 * 1024
    assert settings.log_batch_bytes == 256 * 1024
    assert settings.worker_max_refusals == 3
    assert settings.worker_health_port == 0  # off
    assert settings.worker_health_grace_seconds == 30.0
    assert settings.worker_start_linger_seconds == 0.05


def test_labels_are_comma_separated_trimmed_and_empties_dropped(monkeypatch):
    monkeypatch.setenv("API_KEY", "k")
    monkeypatch.setenv("WORKER_LABELS", " gpu, linux ,,x86_64, ")
    assert load_settings().labels == ["gpu", "linux", "x86_64"]


def test_missing_api_key_is_a_clear_error():
    with pytest.raises(SettingsError, match="API_KEY is required"):
        load_settings()


@pytest.mark.parametrize(("name", "value"), [("WORKER_CAPACITY", "0"), ("WORKER_LABELS", "a b")])
def test_bad_values_are_refused(monkeypatch, name, value):
    monkeypatch.setenv("API_KEY", "k")
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()


def test_dotenv_file_is_read(tmp_path):
    (tmp_path / ".env").write_text("API_KEY=from-file\nWORKER_CAPACITY=4\nWORKER_LABELS=a,b\n")
    settings = load_settings()
    assert (settings.api_key, settings.worker_capacity, settings.labels) == ("from-file", 4, ["a", "b"])


def test_master_url_may_list_several_masters() -> None:
    settings = load_settings(api_key="k", master_url=" http://a:8080, https://b:8080 ,")
    assert settings.master_urls == ["http://a:8080", "https://b:8080"]
    with pytest.raises(SettingsError, match="MASTER_URL: .*http"):
        load_settings(api_key="k", master_url="a:8080")


@pytest.mark.parametrize(("name", "value"), [("WORKER_HEALTH_PORT", "70000"),
                                             ("WORKER_MAX_REFUSALS", "-1"),
                                             ("WORKER_START_LINGER_SECONDS", "-0.1")])
def test_bad_health_and_refusal_settings_are_refused(monkeypatch, name, value):
    monkeypatch.setenv("API_KEY", "k")
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()


def test_every_setting_has_a_meaning_and_a_default_for_help():
    rows = {name: (default, meaning) for name, default, meaning in settings_help()}
    assert set(rows) >= set(WORKER_VARS)
    assert all(meaning for _, meaning in rows.values())
    assert rows["API_KEY"][0] == "required" and rows["WORKER_NAME"][0] == "the host name"
    assert rows["WORKER_HEALTH_PORT"][0] == "0" and rows["WORKER_MAX_REFUSALS"][0] == "3"


def test_start_linger_zero_turns_coalescing_off(monkeypatch):
    monkeypatch.setenv("API_KEY", "k")
    monkeypatch.setenv("WORKER_START_LINGER_SECONDS", "0")
    assert load_settings().worker_start_linger_seconds == 0
