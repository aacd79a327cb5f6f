"""Entry point of the ``keras-attn`` command (also ``python -m keras_attn_cli``).

It makes the backends quiet, then runs ``keras_attn.cli.main``. It lives
outside the ``keras_attn`` package on purpose: importing anything from
``keras_attn`` imports Keras and, on the default backend, TensorFlow, and
TensorFlow's log settings only take effect if they are in place before that
import. Importing ``keras_attn`` as a library changes no logging setting; only
this command does.

Without ``--verbose``:

* ``TF_CPP_MIN_LOG_LEVEL=3`` (unless already set) hides TensorFlow's and XLA's
  C++ log lines;
* the lines that TensorFlow writes while it loads, before its logging is set
  up (oneDNN, CUDA driver, CPU feature notices), ignore that setting, so the
  import of the package runs with file descriptor 2 sent to a temporary file;
  what was written there is shown only if the import fails;
* ``keras_attn.cli`` then hides Python warnings and absl's Python log lines.

``--verbose`` (anywhere before a ``bench`` command's own arguments) leaves
all of that alone.
"""

import os
import sys
import tempfile


def _wants_verbose(argv):
    head = argv[: argv.index("bench")] if "bench" in argv else argv
    return "--verbose" in head


def _import_quietly():
    """Imports keras_attn with fd 2 sent to a temporary file; returns the error if the import failed."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            import keras_attn  # noqa: F401  (imports Keras and the backend)
        except Exception as error:  # a broken installation, not a misuse
            return error
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    return None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not _wants_verbose(argv):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        error = _import_quietly()
        if error is not None:
            print(f"keras-attn: cannot import keras_attn ({type(error).__name__}: {error}); "
                  "rerun with --verbose for the details", file=sys.stderr)
            return 1
    from keras_attn.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
