"""Runs a notebook of notebooks/ top to bottom with nbclient (shared by the notebook tests)."""

import os
import pathlib
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]


def run_notebook(name, workdir, timeout):
    """Executes ``notebooks/<name>`` in ``workdir`` on the TensorFlow backend's set-up.

    Returns ``(seconds, outputs, png_count, text)``: the wall time, every code cell output,
    the number of PNG figures shown and the concatenated stream text.
    """
    import nbclient
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env_path) if p)
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    try:
        start = time.time()
        client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(workdir)}})
        client.execute()
        elapsed = time.time() - start
    finally:
        os.environ["PYTHONPATH"] = env_path
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    pngs = sum(1 for o in outputs if o.output_type == "display_data" and "image/png" in o.get("data", {}))
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    return elapsed, outputs, pngs, text
