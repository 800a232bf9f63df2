import pytest
import yaml

from ste.config.params import load_params, parse_params
from ste.core.config import ConfigError


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


def test_errors_about_keys_name_the_params_file_actually_read(tmp_path):
    """With --params other.yaml, every message about a key names other.yaml, not params.yaml."""
    from ste.core.llm.factory import build_chat_model
    from ste.core.tools import build_registry

    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump({
        "llm": {"models_dir": str(tmp_path / "models"), "roles": {"judge": {"model": str(tmp_path / "no-model")}}},
        "tools": {"openapi": [{"spec": str(tmp_path / "no-spec.json")}]},
    }))
    params = load_params(path)
    assert params.source == params.llm.roles.judge.source == params.tools.openapi[0].source == str(path)
    checks = [
        (lambda: params.explore.resolve("nope"), "explore.configs has no config 'nope'"),
        (lambda: params.continual.replay_ratio("nope"), "continual.settings has no setting 'nope'"),
        (lambda: build_registry(params.tools), "tools.openapi[0].spec"),
        (lambda: build_chat_model(params.llm.roles.judge, params.llm), "llm.roles.judge.model"),
    ]
    for call, key in checks:
        with pytest.raises(ConfigError) as err:
            call()
        assert str(err.value).startswith(f"{path}: {key}"), str(err.value)
    edited = params.model_copy(update={"evaluate": params.evaluate.model_copy(update={"icl_k": 2})})
    assert edited.evaluate.source == edited.source == str(path)  # copies keep it
    assert parse_params({}).source == "params.yaml"  # the default file's name


def test_each_stage_validates_its_sections_and_the_whole_file_is_checked_before_a_run(tmp_path, capsys):
    from ste.config.explore import ExploreParams
    from ste.config.params import main

    bad = {"dpo": {"beta": "high"}}
    assert ExploreParams.parse(bad).explore.defaults.episodes == 15  # explore never reads the dpo section
    with pytest.raises(ConfigError, match="filtr: unknown key; allowed keys: llm, tools"):
        ExploreParams.parse({"filtr": {}})  # a misspelt section stops every stage
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(bad))
    assert main([str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {path}: dpo.beta")
    path.write_text(yaml.safe_dump({"dpo": {"beta": 0.2}}))
    assert main([str(path)]) == 0


def test_the_whole_file_model_holds_every_section_a_stage_may_read():
    from ste.config.params import Params
    from ste.core.config import SECTIONS

    assert tuple(Params.model_fields) == SECTIONS
