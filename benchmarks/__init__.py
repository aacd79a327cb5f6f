"""keras_attn benchmarks: ``python -m benchmarks [--quick] [--only NAME]``."""
