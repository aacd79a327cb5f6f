"""Every code block in README.md, CHANGELOG.md and docs/*.md runs, so the docs cannot rot.

The rules (docs/contributing.md states them for writers):

- The blocks of a page run in order, in one temporary working folder
  (one test per page). ```python blocks share one fresh namespace per page (a
  page can build up). A block with ``>>>`` prompts runs
  as a doctest in that namespace, so its printed output is checked.
- ```bash and ```console blocks: each command (``&&`` splits commands, ``#``
  starts a comment; in a console block commands start with ``$ `` and the
  lines after one are its expected standard output):
  * ``keras-attn ...`` runs through ``keras_attn.cli.main`` (the console
    script's entry point) in a temporary folder and must exit with 0;
  * ``pip install`` / ``pip wheel`` are never run (the suite runs inside the
    installed package); the extras they name must exist in setup.cfg;
  * ``python -m pytest ...`` is never run (it is this suite); the paths it
    names must exist;
  * any other command must be in a block marked not-run (below); the module
    or file it names must exist.
- ``<!-- not-run: reason -->`` on the line before a block: the block is not
  executed (python is only compiled, ``keras-attn`` commands only parsed) and
  it is listed as a skipped test with the reason (``pytest -rs``).
- ``<!-- backend: tensorflow -->`` before a block: it runs on that backend
  only (for output or APIs that exist on one backend).
- ``<!-- requires: onnxruntime -->`` before a block: it runs only where that
  module (an optional dependency) can be imported, and is listed as skipped
  elsewhere.
- ```text blocks are not code. Any other fence language is an error.
- ``<!-- excerpt: path/in/repo -->`` before a block: the block quotes that
  file; its lines (``...`` lines aside) must appear there in order.
- Relative links must point at files that exist.
"""

import configparser
import contextlib
import dataclasses
import doctest
import importlib.util
import io
import os
import pathlib
import re
import shlex
import time

import keras
import pytest

from tests._helpers import BACKEND

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
PAGES = [p for p in PAGES if p.exists()]
LANGUAGES = {"python", "bash", "console", "text"}
BACKENDS = {"tensorflow", "jax", "torch"}

_FENCE = re.compile(r"^( *)```\s*([\w-]*)\s*$")
_MARKER = re.compile(r"^ *<!--\s*(not-run|backend|excerpt|requires)\s*:\s*(.*?)\s*-->\s*$")


@dataclasses.dataclass
class Block:
    page: pathlib.Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    markers: dict

    @property
    def where(self):
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def not_run(self):
        return self.markers.get("not-run")

    @property
    def backend(self):
        return self.markers.get("backend")

    @property
    def missing(self):
        """The modules of a ``requires`` marker that cannot be imported here."""
        names = [n.strip() for n in self.markers.get("requires", "").split(",") if n.strip()]
        return [n for n in names if importlib.util.find_spec(n) is None]


def blocks(page):
    """The fenced blocks of a page, with the markers on the lines just above each."""
    lines = page.read_text(encoding="utf-8").splitlines()
    out, i = [], 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        markers, j = {}, i - 1
        while j >= 0 and _MARKER.match(lines[j]):
            kind, value = _MARKER.match(lines[j]).groups()
            markers[kind] = value
            j -= 1
        end = i + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if end == len(lines):
            raise AssertionError(f"{page.relative_to(ROOT)}:{i + 1}: code block never closed")
        indent = len(fence.group(1))  # a block inside a list item
        body = [line[indent:] if line[:indent].strip() == "" else line for line in lines[i + 1 : end]]
        out.append(Block(page, i + 1, fence.group(2), "\n".join(body) + "\n", markers))
        i = end + 1
    return out


ALL_BLOCKS = [b for page in PAGES for b in blocks(page)]


def _page_id(page):
    return str(page.relative_to(ROOT))


# ---------------------------------------------------------------- structure


def test_pages_are_found():
    assert ROOT / "README.md" in PAGES and len(PAGES) > 2


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=lambda b: b.where)
def test_block_language_and_markers_are_known(block):
    assert block.lang in LANGUAGES, f"{block.where}: fence language {block.lang!r} is not one of {sorted(LANGUAGES)}"
    if block.backend is not None:
        assert block.backend in BACKENDS, f"{block.where}: unknown backend {block.backend!r}"
    if block.not_run is not None:
        assert block.not_run, f"{block.where}: a not-run marker needs a reason"


def _anchors(page):
    """GitHub's anchors of a page's headings."""
    text = re.sub(r"^ *```.*?^ *```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
    anchors = set()
    for heading in re.findall(r"^#+\s+(.*?)\s*$", text, flags=re.M):
        anchors.add(re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-"))
    return anchors


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_relative_links_exist(page):
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"^ *```.*?^ *```", "", text, flags=re.S | re.M)  # links inside code are not links
    text = re.sub(r"`[^`]*`", "", text)
    missing = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve() if file else page
        if not path.exists():
            missing.append(target)
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            missing.append(target)
    assert not missing, f"{_page_id(page)} links to missing files or anchors: {missing}"


@pytest.mark.parametrize(
    "block", [b for b in ALL_BLOCKS if "excerpt" in b.markers], ids=lambda b: b.where
)
def test_excerpts_match_their_source(block):
    source = ROOT / block.markers["excerpt"]
    assert source.exists(), f"{block.where}: excerpt of missing file {block.markers['excerpt']}"
    have = [line.strip() for line in source.read_text(encoding="utf-8").splitlines()]
    position = 0
    for line in block.text.splitlines():
        line = line.strip()
        if not line or line in ("...", "# ..."):
            continue
        try:
            position = have.index(line, position) + 1
        except ValueError:
            raise AssertionError(f"{block.where}: {line!r} is not in {block.markers['excerpt']} (in this order)")


@pytest.mark.parametrize("block", [b for b in ALL_BLOCKS if b.not_run], ids=lambda b: b.where)
def test_not_run_blocks_are_listed(block):
    if block.lang == "python":
        compile(block.text, block.where, "exec")
    pytest.skip(f"{block.where} not run: {block.not_run}")


# -------------------------------------------------------------- python blocks


def _run_python(block, namespace):
    if re.search(r"^\s*>>> ", block.text, flags=re.M):
        test = doctest.DocTestParser().get_doctest(block.text, namespace, block.where, str(block.page), block.line)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        report = io.StringIO()
        runner.run(test, out=report.write, clear_globs=False)
        assert runner.failures == 0, f"{block.where}:\n{report.getvalue()}"
    else:
        code = compile("\n" * block.line + block.text, str(block.page), "exec")  # tracebacks show page lines
        exec(code, namespace)


# -------------------------------------------------------------- shell blocks


def _commands(block):
    """``[(argv, expected_stdout_lines or None)]`` of a bash or console block."""
    out = []
    if block.lang == "bash":
        for line in block.text.splitlines():
            for part in _split(line):
                out.append((part, None))
        return out
    current = None
    for line in block.text.splitlines():
        if line.startswith("$ "):
            parts = _split(line[2:])
            for part in parts[:-1]:
                out.append((part, None))
            current = (parts[-1], [])
            out.append(current)
        elif current is not None:
            current[1].append(line.rstrip())
        elif line.strip():
            raise AssertionError(f"{block.where}: console output {line!r} before any `$ ` command")
    return out


def _split(line):
    tokens = shlex.split(line, comments=True)
    parts, current = [], []
    for token in tokens:
        if token == "&&":
            parts.append(current)
            current = []
        else:
            current.append(token)
    if current:
        parts.append(current)
    return parts


def _setup_extras():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return set(config["options.extras_require"])


def _check_pip(block, argv):
    extras = _setup_extras()
    targets = [a for a in argv[2:] if not a.startswith("-")]
    assert targets, f"{block.where}: `{shlex.join(argv)}` installs nothing"
    for target in targets:
        match = re.fullmatch(r"(?:\.|keras_attn|keras-attn)(?:\[([\w,-]+)\])?", target)
        if match is None:
            assert re.fullmatch(r"[\w./*-]+\.whl", target), f"{block.where}: cannot check pip target {target!r}"
            continue
        unknown = set(filter(None, (match.group(1) or "").split(","))) - extras
        assert not unknown, f"{block.where}: setup.cfg has no extra {sorted(unknown)} (it has {sorted(extras)})"


def _check_pytest(block, argv):
    for arg in argv[3:]:
        if arg.startswith("-") or "/" not in arg and not arg.endswith(".py"):
            continue
        assert (ROOT / arg.split("::")[0]).exists(), f"{block.where}: {arg} does not exist"


def _check_other(block, argv):
    assert block.not_run, (
        f"{block.where}: the runner does not execute `{shlex.join(argv)}`; "
        "mark the block <!-- not-run: reason --> (see tests/test_docs.py)"
    )
    if argv[0] in ("python", "python3") and len(argv) > 2 and argv[1] == "-m":
        module = argv[2]
        found = (ROOT / module.replace(".", "/")).with_suffix(".py").exists() or (
            ROOT / module.replace(".", "/") / "__main__.py"
        ).exists() or importlib.util.find_spec(module.split(".")[0]) is not None
        assert found, f"{block.where}: no module {module}"
    elif argv[0] in ("python", "python3", "bash") and len(argv) > 1:
        assert (ROOT / argv[1]).exists(), f"{block.where}: no file {argv[1]}"


def _run_cli(block, argv, expected):
    from keras_attn import cli

    if block.not_run:
        if argv[1:2] != ["bench"]:
            cli.build_parser().parse_args(argv[1:])
        return
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = cli.main(argv[1:])
        except SystemExit as done:
            code = done.code
    assert code in (0, None), f"{block.where}: `{shlex.join(argv)}` exited with {code}: {stderr.getvalue()[-2000:]}"
    if expected is not None:
        while expected and not expected[-1]:
            expected.pop()
        got = [line.rstrip() for line in stdout.getvalue().splitlines()]
        assert got == expected, f"{block.where}: `{shlex.join(argv)}` printed\n" + "\n".join(got)


def _check_command(block, argv, expected):
    env = {}
    while argv and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", argv[0]):
        name, value = argv.pop(0).split("=", 1)
        env[name] = value
    assert argv, f"{block.where}: empty command"
    if "KERAS_BACKEND" in env:
        assert env["KERAS_BACKEND"] in BACKENDS | {"$b"}, f"{block.where}: unknown backend {env['KERAS_BACKEND']}"
    if argv[0] == "keras-attn":
        assert not env or block.not_run, f"{block.where}: environment settings cannot be applied to an executed command"
        _run_cli(block, argv, expected)
    elif argv[:2] in (["pip", "install"], ["pip", "wheel"]) or argv[:4] in (
        ["python", "-m", "pip", "install"],
        ["python", "-m", "pip", "wheel"],
    ):
        _check_pip(block, argv[2:] if argv[0] == "python" else argv)
    elif argv[:3] in (["python", "-m", "pytest"], ["python3", "-m", "pytest"]):
        _check_pytest(block, argv)
    else:
        _check_other(block, argv)


def _runnable_pages():
    return [p for p in PAGES if any(b.lang != "text" and "excerpt" not in b.markers for b in blocks(p))]


@pytest.mark.parametrize("page", _runnable_pages(), ids=_page_id)
def test_page_runs(page, tmp_path, monkeypatch):
    """All blocks of a page in order, in one temporary folder and one python namespace."""
    monkeypatch.chdir(tmp_path)
    keras.utils.set_random_seed(0)
    namespace = {"__name__": "__docs__"}
    skipped, ran = [], 0
    start = time.perf_counter()
    for block in blocks(page):
        if block.lang == "text" or "excerpt" in block.markers:
            continue
        if block.backend and block.backend != BACKEND:
            skipped.append(f"{block.where} ({block.backend} only)")
            continue
        if block.missing:
            skipped.append(f"{block.where} (needs {', '.join(block.missing)})")
            continue
        if block.lang == "python":
            if block.not_run:
                skipped.append(f"{block.where} (not-run: {block.not_run})")
                continue
            try:
                _run_python(block, namespace)
            except AssertionError:
                raise
            except Exception as error:
                raise AssertionError(f"{block.where} raised {type(error).__name__}: {error}") from error
        else:  # bash, console: not-run blocks are still checked (commands parsed, files found)
            for argv, expected in _commands(block):
                _check_command(block, list(argv), expected)
            if block.not_run:
                skipped.append(f"{block.where} (not-run: {block.not_run})")
                continue
        ran += 1
    if skipped and not ran:
        pytest.skip(f"no block of {_page_id(page)} runs here: {skipped}")
    print(f"{_page_id(page)}: {ran} blocks ran in {time.perf_counter() - start:.1f} s; skipped: {skipped or 'none'}")
