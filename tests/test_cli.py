import keras

from keras_attn import cli


def test_info_lists_versions_and_layers(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"keras {keras.__version__}" in out
    assert "Attention" in out and "OneStepAttention" in out


def test_no_command_prints_help_and_fails(capsys):
    assert cli.main([]) == 2
    assert "usage: keras-attn" in capsys.readouterr().out
