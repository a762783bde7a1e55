"""Issue 12: scikit-learn conformance, one error family, internal structure, query_many."""

from __future__ import annotations

import ast
import functools
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils.estimator_checks import check_estimator

import govtext
from govtext import SimilarityIndex, ThemeClassifier, Tokenizer, Vectorizer
from govtext._common import SENTENCE_END

from .conftest import read_xwlb
from .test_classify import make_corpus

PACKAGE = Path(govtext.__file__).parent


# -- no module reaches into another's private names ---------------------------------------------------

def _private_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    own_module = path.stem
    imported_modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level >= 1:
            source = (node.module or "").split(".")[-1]
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.name}:{node.lineno} imports {alias.name} from .{source}")
                if not node.module:  # from . import clean
                    imported_modules.add(alias.asname or alias.name)
        if isinstance(node, ast.ImportFrom) and node.level >= 1 and node.module:
            for alias in node.names:
                if alias.name[:1].isupper():  # a class imported from another module
                    imported_modules.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in imported_modules and node.attr.startswith("_")
                and not node.attr.startswith("__") and node.value.id != own_module):
            found.append(f"{path.name}:{node.lineno} uses {node.value.id}.{node.attr}")
    return found


def test_no_module_imports_or_uses_another_modules_private_names():
    problems = [p for path in sorted(PACKAGE.rglob("*.py")) for p in _private_uses(path)]
    assert not problems, "\n".join(problems)


# -- one copy of each computation: equivalent definitions, not only identical spellings -------------

@functools.lru_cache(maxsize=1)
def _modules() -> dict[str, ast.Module]:
    """Every module of the package, parsed once (the checks below only read the trees)."""
    return {p.relative_to(PACKAGE).as_posix(): ast.parse(p.read_text(encoding="utf-8"))
            for p in sorted(PACKAGE.rglob("*.py"))}


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _string_literals(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, text) of every string written in code (not docstrings); an f-string counts as its literal
    parts, and a tuple, list or set of one-character strings as the string of those characters."""
    skip = _docstrings(tree)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            out.append((node.lineno, node.value))
        elif isinstance(node, (ast.Tuple, ast.List, ast.Set)) and node.elts and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) and len(e.value) == 1 for e in node.elts):
            out.append((node.lineno, "".join(e.value for e in node.elts)))
    return out


def _char_sets(text: str) -> list[set[str]]:
    """The characters each regex class ``[...]`` in ``text`` stands for (ranges expanded; also a string
    of ranges alone, the makings of a class), and, for a string of punctuation and spaces only, its own
    characters."""
    import re
    import unicodedata

    sets = []
    bodies = re.findall(r"\[\^?((?:\\.|[^\]\\])+)\]", text)
    if re.fullmatch(r"(?:(?:\\u[0-9a-fA-F]{4}|[^\\\[\]-])-(?:\\u[0-9a-fA-F]{4}|[^\\\[\]-]))+", text):
        bodies.append(text)  # ranges written for a class built elsewhere: "\u4e00-\u9fff"
    for body in bodies:
        chars: set[str] = set()
        # one character each: \uXXXX (in a raw string), another escape, or the character itself
        items = [chr(int(e[2:], 16)) if e.startswith("\\u") else e[-1]
                 for e in re.findall(r"\\u[0-9a-fA-F]{4}|\\.|.", body, flags=re.S)]
        i = 0
        while i < len(items):
            if i + 2 < len(items) and items[i + 1] == "-":
                chars.update(map(chr, range(ord(items[i]), ord(items[i + 2]) + 1)))
                i += 3
            else:
                chars.add(items[i])
                i += 1
        sets.append(chars)
    if text and all(unicodedata.category(c)[0] in "PZ" or c.isspace() for c in text):
        sets.append(set(text))
    return sets


def _intervals(tree: ast.AST) -> list[tuple[int, str, str]]:
    """Character intervals written as comparisons: ``"\\u3400" <= ch <= "\\u9fff"``."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and len(node.comparators) == 2 and isinstance(node.left, ast.Constant) \
                and isinstance(node.comparators[1], ast.Constant) and isinstance(node.left.value, str):
            out.append((node.lineno, node.left.value, node.comparators[1].value))
    return out


UNIFIED = {chr(c) for c in range(0x4E00, 0xA000)}
SENTENCE_ENDS = set(SENTENCE_END)


def test_the_han_ranges_are_written_once():
    """Any way of writing the CJK ideograph ranges (a regex class, a comparison chain) outside _common."""
    found = []
    for name, tree in _modules().items():
        for line, text in _string_literals(tree):
            if any(len(chars & UNIFIED) > 1000 for chars in _char_sets(text)):
                found.append(f"{name}:{line} {text[:40]!r}")
        for line, lo, hi in _intervals(tree):
            if isinstance(hi, str) and len(lo) == len(hi) == 1 and ord(lo) <= 0x9FFF and ord(hi) >= 0x4E00:
                found.append(f"{name}:{line} {lo!r} <= ... <= {hi!r}")
    assert [f for f in found if not f.startswith("_common.py:")] == []
    assert [f for f in found if f.startswith("_common.py:")]  # the check can see the one definition


def test_one_sentence_definition():
    """Sentence-ending punctuation written out (a string, a regex class or a tuple of characters with 。
    and two more of them) only in _common; other modules build on its names (a different split is a
    parameter of split_sentences). Full-width-to-ASCII tables, which hold ！？； but not 。, are not one."""
    found = []
    for name, tree in _modules().items():
        for line, text in _string_literals(tree):
            if any("。" in chars and len(chars & SENTENCE_ENDS) >= 3 for chars in _char_sets(text)):
                found.append(f"{name}:{line} {text[:40]!r}")
    assert [f for f in found if not f.startswith("_common.py:")] == []
    assert [f for f in found if f.startswith("_common.py:")]
    assert [n for n, t in _modules().items()
            if any(isinstance(d, ast.FunctionDef) and d.name == "check_text_list" for d in ast.walk(t))] == ["_common.py"]


class _Canonical(ast.NodeTransformer):
    """Rename variables and arguments in order of appearance, so bodies that differ only in names compare
    equal; attributes, calls and constants stay (they carry the meaning)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def _name(self, name: str) -> str:
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return ast.copy_location(ast.Name(id=self._name(node.id), ctx=node.ctx), node)

    def visit_arg(self, node: ast.arg) -> ast.AST:
        return ast.copy_location(ast.arg(arg=self._name(node.arg), annotation=None), node)


def _canonical_body(func: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, int]:
    import copy

    clone = copy.deepcopy(func)
    clone.body = [s for s in clone.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    clone.name, clone.decorator_list, clone.returns = "f", [], None
    clone = _Canonical().visit(clone)
    return ast.dump(clone, annotate_fields=False), sum(1 for _ in ast.walk(clone))


def test_no_function_is_an_equivalent_copy_of_another():
    """Bodies equal up to the names of variables and arguments (a copy pasted and renamed)."""
    def body(source: str) -> str:
        return _canonical_body(ast.parse(source).body[0])[0]

    original = body("def idf(df, n):\n    return np.log((1 + n) / (1 + df)) + 1.0\n")
    assert original == body('def weights(counts, docs):\n    """Renamed."""\n'
                            "    return np.log((1 + docs) / (1 + counts)) + 1.0\n")
    assert original != body("def idf(df, n):\n    return np.log(n / df) + 1.0\n")
    seen: dict[str, list[str]] = {}
    for name, tree in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                key, size = _canonical_body(node)
                if size >= 40:
                    seen.setdefault(key, []).append(f"{name}:{node.lineno} {node.name}")
    copies = [where for where in seen.values() if len(where) > 1]
    assert not copies, f"functions with the same body up to names: {copies}"


def _called(node: ast.AST, names: set[str]) -> bool:
    func = getattr(node, "func", None)
    return isinstance(node, ast.Call) and (getattr(func, "attr", None) or getattr(func, "id", None)) in names


def _tf_idf_arithmetic(tree: ast.AST) -> list[str]:
    """TF-IDF weighting written out: ``1 ± log(…)`` (sublinear tf; the idf), ``log(x, out=x)`` then
    ``x += 1`` (sublinear tf in place), a square root of squares (``x**2``, ``x * x``, ``square(x)``,
    ``x.multiply(x)``: the l2 norm of rows), or scikit-learn's TF-IDF classes and ``normalize``."""
    def one(node: ast.AST) -> bool:
        return isinstance(node, ast.Constant) and node.value in (1, 1.0)

    def has_log(node: ast.AST) -> bool:
        return any(_called(n, {"log"}) for n in ast.walk(node))

    def same(a: ast.AST, b: ast.AST) -> bool:
        return ast.dump(a) == ast.dump(b)

    def squares(node: ast.AST) -> bool:
        for n in ast.walk(node):
            if isinstance(n, ast.BinOp) and ((isinstance(n.op, ast.Pow) and isinstance(n.right, ast.Constant)
                                              and n.right.value == 2)
                                             or (isinstance(n.op, ast.Mult) and same(n.left, n.right))):
                return True
            if _called(n, {"square"}):
                return True
            if (_called(n, {"multiply"}) and isinstance(n.func, ast.Attribute) and len(n.args) == 1
                    and same(n.func.value, n.args[0])):
                return True
        return False

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)) and (
                (one(node.left) and has_log(node.right)) or (one(node.right) and has_log(node.left))):
            found.append(f"{node.lineno}: 1 ± log(...)")
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and has_log(node) and any(
                isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add) and one(n.value) for n in ast.walk(node)):
            found.append(f"{node.lineno}: log(...) then += 1 in {node.name}")
        if _called(node, {"sqrt"}) and squares(node):
            found.append(f"{node.lineno}: sqrt(sum of squares)")
        elif (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and squares(node)
              and any(_called(n, {"sqrt"}) for n in ast.walk(node))):  # squares summed first, the root later
            found.append(f"{node.lineno}: sqrt(sum of squares) in {node.name}")
        if isinstance(node, ast.alias) and node.name in {"TfidfVectorizer", "TfidfTransformer"}:
            found.append(f"{node.lineno}: scikit-learn's {node.name}")
        if (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sklearn")
                and any(a.name == "normalize" for a in node.names)):
            found.append(f"{node.lineno}: scikit-learn's normalize")
    return found


def test_the_tf_idf_check_finds_each_way_of_writing_it():
    """The check below can fail: it finds the theme model's former copies and their equivalents."""
    def found(source: str) -> bool:
        return bool(_tf_idf_arithmetic(ast.parse(source)))

    copies = [  # _linear._tfidf and classify._idf before the theme model called the Vectorizer's arithmetic
        "def tfidf(counts, idf):\n    m = counts.astype(np.float64)\n"
        "    m.data = (1.0 + np.log(m.data)) * idf[m.indices]\n    return m\n",
        "def tfidf(m):\n    norms = np.sqrt(np.bincount(rows, weights=m.data**2))\n",
        "def idf(df, n):\n    return np.log((1 + n) / (1 + np.asarray(df, dtype=np.float64))) + 1.0\n",
        "def idf(df, n):\n    return 1 - np.log(df / n)\n",
        "def tf(data):\n    np.log(data, out=data)\n    data += 1\n",
        "def l2(m):\n    return np.sqrt(np.asarray(m.multiply(m).sum(axis=1)))\n",
        "def l2(v):\n    return math.sqrt(sum(x * x for x in v))\n",
        "def l2(v):\n    return np.sqrt(np.square(v).sum())\n",
        "def l2(data):\n    totals = np.bincount(rows, weights=data**2)\n    return data / np.sqrt(totals)\n",
        "from sklearn.preprocessing import normalize\n",
        "from sklearn.feature_extraction.text import TfidfTransformer\n",
    ]
    assert all(found(source) for source in copies), [s for s in copies if not found(s)]
    unrelated = ["def sigmoid(z):\n    return 1.0 / (1.0 + np.exp(-z))\n",
                 "def logit(p):\n    return np.log(p / (1 - p))\n",
                 "def unit(v):\n    return v / np.linalg.norm(v)\n",
                 "def f(x):\n    x += 1\n    return np.sqrt(x)\n"]
    assert not any(found(source) for source in unrelated), [s for s in unrelated if found(s)]


# The Vectorizer and its arithmetic. The theme model's compiled kernel weighs the rows it counts with
# the same float64 operations, in numba (a second copy, kept in its own file so that numba's cache of
# it is renewed whenever it changes); tests/test_prediction_exact.py holds it to weighting.py's bits.
TF_IDF_HOME = ("features/vectorize.py", "features/weighting.py", "themes/_kernel.py")


def test_the_tf_idf_check_sees_the_vectorizers_own_arithmetic():
    kinds = {where.split(": ", 1)[1].split(" in ")[0] for name in TF_IDF_HOME
             for where in _tf_idf_arithmetic(_modules()[name])}
    assert kinds == {"1 ± log(...)", "log(...) then += 1", "sqrt(sum of squares)", "scikit-learn's TfidfVectorizer"}


STAGES = ["", "text", "features", "themes", "search", "runs", "apps"]


@pytest.mark.parametrize("folder", STAGES)
def test_tf_idf_arithmetic_lives_only_in_the_vectorizer(folder):
    """Counting, IDF and weighting are the Vectorizer's (features/vectorize.py and the arithmetic it uses,
    features/weighting.py); everyone else, the theme model included, calls them."""
    folders = {p.parent.name for p in PACKAGE.glob("*/__init__.py")} - {"models"}  # models: the bundled model
    assert folders | {""} == set(STAGES) | {"dask", "plot"}  # every stage is checked (dask, plot: aliases)
    modules = {name: tree for name, tree in _modules().items() if name.rpartition("/")[0] == folder}
    assert modules, f"no modules in govtext/{folder}"
    found = [f"{name}:{where}" for name, tree in modules.items() if name not in TF_IDF_HOME
             for where in _tf_idf_arithmetic(tree)]
    assert not found, found


def test_the_similarity_index_delegates_each_concern_to_its_own_module():
    """SimilarityIndex is the public face; building, ranking, passages, reprint grouping and storage are
    modules of their own that it imports (not methods of one class that mixes them)."""
    imported = {node.module for node in ast.walk(_modules()["search/similarity.py"])
                if isinstance(node, ast.ImportFrom) and node.level == 1}
    assert {"_build", "_topk", "_passages", "_duplicates", "_store"} <= imported
    for concern in ("_build", "_topk", "_passages", "_duplicates", "_store"):
        assert not [n for n in ast.walk(_modules()[f"search/{concern}.py"]) if isinstance(n, ast.ClassDef)
                    and n.name == "SimilarityIndex"]


def test_the_page_is_not_built_from_python_strings():
    """The page comes from Jinja2 templates with autoescape (govtext/apps/templates), not HTML in Python."""
    import re

    html = [f"apps/serve.py:{line}" for line, text in _string_literals(_modules()["apps/serve.py"])
            if re.search(r"<(?:html|div|form|table|ul|li|p|a|span|input|h[1-6])\b", text)]
    assert not html, html


# -- the stages: subpackages, setup.cfg and README's layout agree ------------------------------------

def test_setup_cfg_lists_every_subpackage_and_readme_maps_every_module():
    import configparser
    import re

    repo = PACKAGE.parent
    cfg = configparser.ConfigParser()
    cfg.read(repo / "setup.cfg", encoding="utf-8")
    listed = set(cfg["options"]["packages"].split())
    on_disk = {"govtext"} | {f"govtext.{p.parent.name}" for p in PACKAGE.glob("*/__init__.py")}
    assert listed == on_disk | {"govtext.models"}
    layout = (repo / "README.md").read_text(encoding="utf-8").split("## Layout", 1)[1]
    rows = dict(re.findall(r"^\| `govtext/(\w*)/?`[^|]*\| (.*) \|$", layout, flags=re.M))
    stages = {p.parent.name for p in PACKAGE.glob("*/__init__.py") if len(list(p.parent.glob("*.py"))) > 1}
    assert set(rows) == stages | {""}, "README's layout table names each stage folder and the core"
    for folder, cell in rows.items():
        modules = {p.stem for p in (PACKAGE / folder).glob("*.py")} - {"__init__", "__main__"}
        assert set(re.findall(r"`(\w+)`", cell)) >= modules, f"README's layout row for govtext/{folder}"
    # the aliases README documents are the stage modules themselves
    import govtext.dask
    import govtext.plot

    assert govtext.plot is govtext.apps.plot and govtext.dask is govtext.runs.dask
    assert govtext.clean is govtext.text.clean and govtext.cli is govtext.apps.cli


def test_readme_states_the_ci_command_and_the_fast_loop():
    import re
    import tomllib

    repo = PACKAGE.parent
    readme = (repo / "README.md").read_text(encoding="utf-8")
    ci = (repo / ".ci" / "run").read_text(encoding="utf-8")
    full = re.search(r"```bash\n(pip install -e \"\.\[test\]\" && python -m pytest[^\n]*)\n```", readme).group(1)
    assert full in ci.splitlines() and '-m "slow or not slow"' in full  # CI runs every test
    addopts = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"][
        "addopts"]
    assert addopts[addopts.index("-m") + 1] == "not slow"  # the default loop leaves the slow ones out
    assert "`python -m pytest`" in readme


# -- one error family -------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [Vectorizer, ThemeClassifier, SimilarityIndex])
def test_unfitted_objects_raise_one_not_fitted_error(make):
    obj = make()
    call = obj.transform if isinstance(obj, Vectorizer) else (
        obj.predict if isinstance(obj, ThemeClassifier) else obj.query)
    arg = ["社区"] if not isinstance(obj, SimilarityIndex) else "社区"
    with pytest.raises(govtext.NotFittedError, match="not fitted yet") as info:
        call(arg)
    assert isinstance(info.value, govtext.GovtextError)
    assert isinstance(info.value, SklearnNotFittedError)
    assert govtext.errors.NotFittedError is govtext.NotFittedError


BAD_PARAMS = [
    (Vectorizer, {"min_df": -1}, "min_df"), (Vectorizer, {"max_df": 1.5}, "max_df"),
    (Vectorizer, {"max_features": 0}, "max_features"), (Vectorizer, {"norm": "l3"}, "norm"),
    (Vectorizer, {"ngram_range": (2, 1)}, "ngram_range"), (Vectorizer, {"dtype": np.int32}, "dtype"),
    (Vectorizer, {"n_jobs": 0}, "n_jobs"), (Vectorizer, {"sublinear_tf": "yes"}, "sublinear_tf"),
    (Vectorizer, {"tokenizer": "jieba"}, "tokenizer"),
    (ThemeClassifier, {"max_chars": 0}, "max_chars"), (ThemeClassifier, {"min_df": "2"}, "min_df"),
    (ThemeClassifier, {"class_weight": "even"}, "class_weight"), (ThemeClassifier, {"C": 0}, "C"),
    (ThemeClassifier, {"cv": 1}, "cv"), (ThemeClassifier, {"threshold": 1.5}, "threshold"),
    (ThemeClassifier, {"char_ngrams": (0, 2)}, "char_ngrams"), (ThemeClassifier, {"labels": "abc"}, "labels"),
    (ThemeClassifier, {"sentence_model": "no"}, "sentence_model"),
    (ThemeClassifier, {"random_state": -3}, "random_state"),
    (SimilarityIndex, {"chunk_size": 0}, "chunk_size"), (SimilarityIndex, {"min_df": -2}, "min_df"),
    (SimilarityIndex, {"n_jobs": -5}, "n_jobs"), (SimilarityIndex, {"store_text": None}, "store_text"),
]


@pytest.mark.parametrize("make,params,name", BAD_PARAMS, ids=[f"{m.__name__}-{n}" for m, _, n in BAD_PARAMS])
def test_fit_validates_every_parameter_and_says_what_came_in(make, params, name):
    texts, Y = make_corpus(20)
    est = make(**params)  # construction never validates (scikit-learn convention)
    assert est.get_params(deep=False)[name] == params[name] or params[name] is None
    with pytest.raises(govtext.ParameterError, match=rf"{name}.* must .*got") as info:
        est.fit(texts, Y) if isinstance(est, ThemeClassifier) else est.fit(texts)
    assert isinstance(info.value, ValueError)  # and a TypeError: old except clauses still catch it


def test_cli_reports_expected_errors_in_one_line_and_bugs_with_a_traceback(tmp_path, capsys, monkeypatch):
    from govtext import cli

    assert cli.main(["classify", str(tmp_path / "missing.txt")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("govtext: error:") and "Traceback" not in err

    def broken(args):
        raise TypeError("an internal mistake")

    real = cli._parser

    def parser_with_a_bug():
        p = real()
        p._subparsers._group_actions[0].choices["clean"].set_defaults(func=broken)
        return p

    monkeypatch.setattr(cli, "_parser", parser_with_a_bug)
    (tmp_path / "a.txt").write_text("社区召开居民议事会。", encoding="utf-8")
    assert cli.main(["clean", str(tmp_path / "a.txt")]) == 3
    err = capsys.readouterr().err
    assert "Traceback" in err and "TypeError: an internal mistake" in err and "report it" in err


# -- scikit-learn estimator checks ---------------------------------------------------------------------

# Checks that feed numeric arrays (or sparse matrices) where these estimators take a list of texts,
# so they cannot apply; each is ported to text input in test_text_versions_of_the_numeric_checks or
# is about numeric input only (dtypes, NaN/inf, sparse, complex, 1-D/2-D shapes, n_features_in_).
NOT_APPLICABLE = {
    "check_dont_overwrite_parameters", "check_estimators_fit_returns_self", "check_readonly_memmap_input",
    "check_n_features_in_after_fitting", "check_positive_only_tag_during_fit", "check_estimators_dtypes",
    "check_complex_data", "check_dtype_object", "check_estimators_empty_data_messages",
    "check_pipeline_consistency", "check_estimators_nan_inf", "check_estimator_sparse_tag",
    "check_estimator_sparse_array", "check_estimator_sparse_matrix", "check_estimators_pickle",
    "check_f_contiguous_array_estimator", "check_transformer_data_not_an_array", "check_transformer_general",
    "check_transformer_preserve_dtypes", "check_methods_sample_order_invariance", "check_methods_subset_invariance",
    "check_fit2d_1sample", "check_fit2d_1feature", "check_dict_unchanged", "check_fit_idempotent",
    "check_fit_check_is_fitted", "check_n_features_in", "check_fit1d", "check_fit2d_predict1d",
    "check_estimators_overwrite_params", "check_fit_score_takes_y", "check_sample_weights_not_an_array",
    "check_sample_weights_list", "check_sample_weights_shape", "check_sample_weights_not_overwritten",
    "check_sample_weight_equivalence_on_dense_data", "check_sample_weight_equivalence_on_sparse_data",
    "check_sample_weights_pandas_series", "check_supervised_y_2d", "check_requires_y_none",
    "check_classifiers_train", "check_classifiers_one_label", "check_classifiers_one_label_sample_weights",
    "check_classifiers_classes", "check_classifiers_regression_target", "check_classifiers_multilabel_representation_invariance",
    "check_classifiers_multilabel_output_format_predict", "check_classifiers_multilabel_output_format_predict_proba",
    "check_classifiers_multilabel_output_format_decision_function", "check_classifier_multioutput",
    "check_decision_proba_consistency", "check_estimators_partial_fit_n_features", "check_transformer_n_iter",
    "check_array_api_input", "check_classifier_data_not_an_array", "check_estimators_unfitted",
    "check_classifiers_predictions", "check_fit_non_negative", "check_supervised_y_no_nan",
}
# The generic API checks (parameters, cloning, tags, repr) that must pass.
MUST_PASS = {"check_no_attributes_set_in_init", "check_parameters_default_constructible", "check_get_params_invariance",
             "check_set_params", "check_estimator_cloneable", "check_estimator_repr", "check_mixin_order",
             "check_valid_tag_types", "check_estimator_tags_renamed", "check_do_not_raise_errors_in_init_or_set_params"}


@pytest.mark.parametrize("make", [Vectorizer, ThemeClassifier])
def test_scikit_learn_estimator_checks(make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(make(), on_fail=None, on_skip=None)
    status: dict[str, set[str]] = {}
    for r in results:
        status.setdefault(r["check_name"], set()).add(r["status"])
    failed = {name for name, s in status.items() if "failed" in s}
    unexplained = failed - NOT_APPLICABLE
    assert not unexplained, f"checks that apply to text input failed: {sorted(unexplained)}"
    ran_ok = {name for name, s in status.items() if s == {"passed"}}
    missing = {c for c in MUST_PASS if c in status} - ran_ok
    assert not missing, f"generic checks did not pass: {sorted(missing)}"
    # scikit-learn skips all its checks for an estimator tagged as taking strings (ThemeClassifier),
    # so the generic ones are also run one by one, for both estimators.
    from sklearn.utils import estimator_checks

    ran = 0
    for name in sorted(MUST_PASS):
        check = getattr(estimator_checks, name, None)
        if check is not None:
            check(make.__name__, make())
            ran += 1
    assert ran >= 8


def _text_fit(est, texts, Y):
    return est.fit(texts, Y) if isinstance(est, ThemeClassifier) else est.fit(texts)


def _text_out(est, texts):
    return est.predict_proba(texts) if isinstance(est, ThemeClassifier) else est.transform(texts).toarray()


@pytest.mark.parametrize("make", [lambda: Vectorizer(min_df=2),
                                  lambda: ThemeClassifier(min_df=1, cv=2, sentence_model=False)],
                         ids=["Vectorizer", "ThemeClassifier"])
def test_text_versions_of_the_numeric_checks(make):
    texts, Y = make_corpus(60)
    est = make()
    before = est.get_params(deep=False)
    assert not [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]  # nothing fitted in __init__
    # fit returns self and does not change parameters (check_estimators_fit_returns_self,
    # check_dont_overwrite_parameters)
    assert _text_fit(est, texts, Y) is est
    after = est.get_params(deep=False)
    assert before.keys() == after.keys() and all(before[k] is after[k] for k in before)
    out = _text_out(est, texts)
    # fitting again on the same data gives the same result (check_fit_idempotent)
    np.testing.assert_allclose(_text_out(_text_fit(clone(est), texts, Y), texts), out, atol=1e-9)
    # order and subsets of the input do not change the rows (check_methods_sample_order_invariance,
    # check_methods_subset_invariance)
    order = np.random.default_rng(0).permutation(len(texts))
    np.testing.assert_allclose(_text_out(est, [texts[i] for i in order]), out[order], atol=1e-9)
    np.testing.assert_allclose(_text_out(est, texts[:7]), out[:7], atol=1e-9)
    # prediction does not change the estimator's state (check_dict_unchanged)
    state = {k: v for k, v in vars(est).items() if not k.startswith("_")}
    _text_out(est, texts[:5])
    assert {k: v for k, v in vars(est).items() if not k.startswith("_")}.keys() == state.keys()
    # pickling keeps predictions (check_estimators_pickle)
    np.testing.assert_allclose(_text_out(pickle.loads(pickle.dumps(est)), texts), out, atol=1e-9)
    # an empty list is a clear error (check_estimators_empty_data_messages)
    with pytest.raises(ValueError):
        _text_fit(clone(est), [], Y[:0])


def test_score_is_macro_f1_not_subset_accuracy():
    from sklearn.metrics import f1_score

    texts, Y = make_corpus(80)
    clf = ThemeClassifier(min_df=1, cv=2, sentence_model=False).fit(texts[:60], Y[:60])
    expected = f1_score(Y[60:], clf.predict(texts[60:]), average="macro", zero_division=0)
    assert clf.score(texts[60:], Y[60:]) == pytest.approx(expected)


# -- one name per idea ---------------------------------------------------------------------------------

def test_old_parameter_names_still_work_with_a_deprecation_warning(tmp_path):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"body": ["社区党支部召开组织生活会。", "街道开展文明劝导。"]})
    new = govtext.classify_frame(df, text_field="body", n_jobs=1, progress=False)
    with pytest.warns(DeprecationWarning, match="jobs= is deprecated"):
        old = govtext.classify_frame(df, text_col="body", jobs=1, progress=False)
    assert old.equals(new)
    with pytest.raises(govtext.ParameterError, match="unexpected keyword argument 'colour'"):
        govtext.classify_frame(df, colour="red")
    rec = govtext.Record("1", "text", {"title": "t"})
    assert rec.metadata == {"title": "t"}
    with pytest.warns(DeprecationWarning, match="Record.meta is deprecated"):
        assert rec.meta == {"title": "t"}


# -- SimilarityIndex: Vectorizer weighting, extract with the configured tokenizer, query_many ---------

@pytest.fixture(scope="module")
def xwlb_index():
    items = read_xwlb(600, step=40)
    texts = [it["text"] for it in items]
    index = SimilarityIndex(min_df=1, n_jobs=2).fit(texts, ids=[it["id"] for it in items],
                                          metadata=[{"date": it.get("date")} for it in items])
    return index, texts


@pytest.mark.slow
def test_index_rows_are_the_vectorizers_tf_idf(xwlb_index):
    index, texts = xwlb_index
    vec = index.vectorizer_
    rows = sp_rows(index)
    expected = vec.transform(texts[:50]).toarray()
    np.testing.assert_allclose(rows[:50], expected, atol=1e-5)
    # and a Vectorizer fitted the ordinary way on the same texts weighs them the same
    plain = Vectorizer(min_df=1).fit(texts)
    assert list(plain.get_feature_names_out()) == list(vec.get_feature_names_out()) or \
        set(plain.get_feature_names_out()) == set(vec.get_feature_names_out())
    order = [plain.vocabulary_[t] for t in vec.get_feature_names_out()]
    np.testing.assert_allclose(plain.transform(texts[:50]).toarray()[:, order], expected, atol=1e-5)


def sp_rows(index):
    import scipy.sparse as sp

    return sp.vstack([s.tocsr() for s in index.segments_]).toarray()


def test_weigh_gives_what_transform_gives():
    texts, _ = make_corpus(40)
    for params in ({}, {"sublinear_tf": False, "norm": "l1"}, {"norm": None, "smooth_idf": False}):
        vec = Vectorizer(**params).fit(texts)
        counts, vocab = govtext.vectorize.count_terms(texts, tokenizer=vec.tokenizer_,
                                                      vocabulary=dict(vec.vocabulary_))
        np.testing.assert_allclose(vec.weigh(counts).toarray(), vec.transform(texts).toarray(), rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_places_use_the_configured_tokenizer():
    text = "无锡市梁溪区瞻江街道万融社区举行文明楼道揭幕仪式"
    default = govtext.places(text)
    with_jieba = govtext.places(text, tokenizer=Tokenizer(engine="jieba"))
    assert default == ["无锡市", "梁溪区", "瞻江街道", "万融社区"]
    assert with_jieba != default  # jieba cuts 瞻江 apart, so the engine really is the tokenizer's
    index = SimilarityIndex(tokenizer=Tokenizer(engine="jieba")).fit([text], ids=["a"])
    assert index.metadata_[0]["places"] == with_jieba


@pytest.mark.slow
def test_query_many_equals_query_for_each(xwlb_index):
    index, texts = xwlb_index
    queries = ["".join(t.split())[:200] for t in texts[::37] if t.strip()] + ["社区党员志愿者开展文明劝导", "居民议事会协商加装电梯"]
    settings = [dict(k=10), dict(k=5, filter={"date": ("2019-01-01", None)}), dict(k=3, exclude_duplicates=True),
                dict(k=7, prune_df=0.2)]
    for kw in settings:
        many = index.query_many(queries, **kw)
        assert len(many) == len(queries)
        for q, got in zip(queries, many):
            one = index.query(q, **kw)
            assert [m.id for m in got] == [m.id for m in one]
            assert [m.score for m in got] == pytest.approx([m.score for m in one], abs=1e-6)
            assert [m.shared_terms for m in got] == [m.shared_terms for m in one]
    assert index.query_many([]) == []
    with pytest.raises(govtext.EmptyTextError, match=r"texts\[1\]"):
        index.query_many(["楼道", "  "])


@pytest.mark.slow
def test_query_results_match_an_independent_brute_force_cosine(xwlb_index):
    """Recall against exact cosine computed without the index: scikit-learn's TfidfVectorizer with
    the documented weighting over the same tokens, and a dense product."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    index, texts = xwlb_index
    tok = Tokenizer()
    sk = TfidfVectorizer(analyzer=tok, sublinear_tf=True, smooth_idf=True, norm="l2")
    D = sk.fit_transform(texts)
    queries = ["".join(t.split())[:150] for t in texts[5::61] if t.strip()]
    Q = sk.transform(queries)
    exact = (Q @ D.T).toarray()
    for j, q in enumerate(queries):
        got = index.query(q, k=10, rank="cosine")
        best = np.argsort(-exact[j], kind="stable")[:10]
        assert {m.id for m in got} == {index.ids_[i] for i in best} or \
            np.allclose(sorted(m.score for m in got), sorted(exact[j][best]), atol=1e-5)
        np.testing.assert_allclose([m.score for m in got], -np.sort(-exact[j])[:10], atol=1e-5)


def test_cli_similar_each_line_uses_query_many(tmp_path, capsys):
    import json

    from govtext import cli

    items = [it for it in read_xwlb(100, step=200) if len(it["text"].strip()) > 100]
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps({"id": it["id"], "text": it["text"]}, ensure_ascii=False) + "\n"
                              for it in items), encoding="utf-8")
    assert cli.main(["index", str(corpus), "-o", str(tmp_path / "idx"), "-q", "--no-clean"]) == 0
    capsys.readouterr()
    lines = ["".join(items[3]["text"].split())[:80], "", "".join(items[9]["text"].split())[:80]]
    (tmp_path / "q.txt").write_text("\n".join(lines), encoding="utf-8")
    assert cli.main(["similar", "--index", str(tmp_path / "idx"), "--file", str(tmp_path / "q.txt"),
                     "--each-line", "--json", "-k", "2", "--rank", "cosine"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["query_line"] for r in rows] == [1, 1, 3, 3]
    assert rows[0]["id"] == items[3]["id"] and rows[2]["id"] == items[9]["id"]
    assert "why" not in rows[0]  # the cosine order explains nothing beyond its score
    assert cli.main(["similar", "--index", str(tmp_path / "idx"), "--file", str(tmp_path / "q.txt"),
                     "--each-line", "--json", "-k", "2"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["query_line"] for r in rows] == [1, 1, 3, 3] and all(r["why"].startswith("cosine ") for r in rows)


@pytest.mark.slow
def test_index_loads_lazily_and_can_be_saved_over_its_own_folder(tmp_path, xwlb_index):
    index, texts = xwlb_index
    index.save(tmp_path / "idx")
    loaded = govtext.load(tmp_path / "idx")
    assert type(loaded.metadata_).__name__ == "MetadataTable" and type(loaded.texts_).__name__ == "JsonLines"
    q = next("".join(t.split())[:200] for t in texts[100:] if len(t.strip()) > 100)
    before = [(m.id, m.passage) for m in loaded.query(q, k=5)]
    assert before == [(m.id, m.passage) for m in index.query(q, k=5)]
    loaded.add(["社区党员志愿者开展文明劝导活动。"], ids=["new"])
    loaded.save(tmp_path / "idx")  # over the files it has memory-mapped
    assert [(m.id, m.passage) for m in loaded.query(q, k=5)] == before
    again = govtext.load(tmp_path / "idx")
    assert len(again) == len(index) + 1 and again.document("new")[0] == "社区党员志愿者开展文明劝导活动。"
    # a folder without its ids is refused, saying what is missing
    (tmp_path / "idx" / "ids_ends.npy").unlink()
    with pytest.raises(govtext.IncompatibleModelError, match="the ids .ids_utf8.npy and ids_ends.npy. are missing"):
        govtext.load(tmp_path / "idx")


def test_similarity_index_parameters_follow_the_protocol():
    index = SimilarityIndex(tokenizer=Tokenizer(user_words=["楼道微自治"]), min_df=1, store_text=False)
    copy = clone(index)
    assert copy.get_params(deep=False)["min_df"] == 1 and copy.tokenizer is not index.tokenizer
    assert copy.get_params(deep=True)["tokenizer__user_words"] == ["楼道微自治"]
    assert copy.set_params(tokenizer__min_length=2, chunk_size=10) is copy and copy.tokenizer.min_length == 2
    with pytest.raises(govtext.ParameterError, match="no parameter"):
        copy.set_params(colour="red")


def test_cli_serve_reports_a_missing_index_in_one_line(tmp_path, capsys):
    from govtext import cli

    assert cli.main(["serve", "--index", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert "govtext: error:" in err and "Traceback" not in err
    assert cli.main(["serve", "--index", str(tmp_path), "--port", "0"]) == 2
