import pytest

from ste.config import ConfigError, load_params, parse_params


def test_repo_params_file_is_valid():
    params = load_params("params.yaml")
    assert "full" in params.explore.configs
    for name in params.explore.configs:
        params.explore.resolve(name)


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"explore": {"defaults": {"episodes": 0}}}, "explore.defaults.episodes"),
        ({"explore": {"defalts": {}}}, "allowed keys: concurrency, defaults, configs"),
        ({"llm": {"roles": {"judge": {"backend": "vllm"}}}}, "'local' or 'openai'"),
        ({"explore": {"configs": {"x": {"stm": "maybe"}}}}, "explore.configs.x.stm"),
        ({"explore": {"configs": {"x": {"foo": 1}}}}, "explore.configs.x.foo: unknown key"),
        ({"finetune": {"lora_r": "big"}}, "finetune.lora_r"),
        ({"llm": {"roles": {"judge": {"backend": "openai"}}}}, "needs base_url"),
        ([1, 2], "top level must be a mapping"),
    ],
)
def test_bad_values_name_the_key(data, expected):
    with pytest.raises(ConfigError, match=None) as err:
        parse_params(data)
    assert expected in str(err.value)


def test_config_overrides_defaults():
    params = parse_params({"explore": {"defaults": {"episodes": 2}, "configs": {"no_stm": {"stm": False}}}})
    cfg = params.explore.resolve("no_stm")
    assert cfg.stm is False and cfg.episodes == 2


def test_unknown_config_name_lists_known():
    params = parse_params({})
    with pytest.raises(ConfigError, match="known: full"):
        params.explore.resolve("nope")


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_params(tmp_path / "params.yaml")
    bad = tmp_path / "params.yaml"
    bad.write_text("explore: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_params(bad)
