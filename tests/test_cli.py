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


def test_bench_passes_its_arguments_to_the_benchmark_runner(capsys):
    assert cli.main(["bench", "--list"]) == 0
    assert "attention" in capsys.readouterr().out.split()
    assert cli.main(["bench", "--only", "no-such-benchmark"]) == 2
