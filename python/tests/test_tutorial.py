"""LaminDB's "Features & labels" tutorial (0.72; its text is `data/features-and-labels-
tutorial.txt`) runs with `import lamindb as ln` changed to `import lamella as ln`.

The Python cells are taken from the text as written, run in order in one namespace in a fresh
instance, the last expression of a cell shown as Jupyter shows it (graphs written as SVG files,
DataFrames printed), and what the tutorial prints is checked (uids and times aside).

Deviations, as the README lists them:
1. The previous tutorial ("Tutorial: Artifacts") is stood in for by `previous_tutorial()`: three
   folders of raw images saved as artifacts and three versions of the "Iris collection", in a
   run of a notebook transform "Tutorial: Artifacts".
2. `ulabels = ln.ULabel.lookup()` runs before the cell that uses `ulabels.study0` (the tutorial
   never defines `ulabels`).
3. `ln.track()` in a notebook reads the transform's name and key from the notebook; here they
   are set first: `ln.settings.transform.name = "Tutorial: Features & labels"`,
   `ln.settings.transform.key = "tutorial2"`.
4. The "How to track units of features?" snippet (`for feature in features: if feature.type ==
   "number": ...`) is an illustration in a collapsed note, not a cell, and is not run; the
   shell clean-up cell (`!rm -r …`, `!lamin delete …`) is not Python and is not run.
"""

import ast
import contextlib
import io
import re
from pathlib import Path

import pytest

import lamella as ln

TUTORIAL = Path(__file__).parent / "data" / "features-and-labels-tutorial.txt"

# A line that starts a statement or continues one: indented, a comment, a shell escape, an
# assignment/call/attribute on a lower-case name, or a keyword that starts a block.
CODE = re.compile(
    r"^(\s+\S|#|!|[a-z_][\w.]*\s*(\(|=|\[|$)|[a-z_][\w.\[\]\"']*\.\w+|import |from |def |for |if )"
)
CLOSING = re.compile(r"^[)\]}]")


def tutorial_cells(text: str) -> list[str]:
    """The Python cells of the tutorial text: maximal runs of code lines that compile.
    Output blocks (after "Hide code cell output") are skipped unless a line compiles alone."""
    cells: list[str] = []
    current: list[str] = []
    in_output = False

    def flush() -> None:
        while current and not current[-1].strip():
            current.pop()
        if current:
            source = "\n".join(current)
            try:
                compile(source, "cell", "exec")
            except SyntaxError:
                pass
            else:
                if any(c in source for c in "(=.") or source.startswith("import"):
                    cells.append(source)
        current.clear()

    for line in text.splitlines():
        if line.strip() in ("Hide code cell output", "Hide code cell content"):
            flush()
            in_output = True
            continue
        if CODE.match(line) or (current and CLOSING.match(line)):
            if in_output and not current:
                try:
                    compile(line, "line", "exec")
                except SyntaxError:
                    continue
            in_output = False
            current.append(line)
        elif not line.strip() and current:
            current.append(line)
        else:
            flush()
    flush()
    return cells


def test_the_extractor_finds_every_cell():
    cells = tutorial_cells(TUTORIAL.read_text())
    assert len(cells) == 37
    assert cells[0].startswith("import lamindb as ln")
    assert cells[7].startswith("def run_ml_model()")
    assert cells[12].startswith("artifact = ln.Artifact.from_df(") and "artifact.save()" in cells[12]
    assert cells[-1] == "ln.Storage.df()"
    # outputs that look like code are not cells
    assert not any(c.startswith(("ULabel(", "Artifact(", "id")) for c in cells)


def previous_tutorial(root: Path) -> None:
    """Deviation 1: what "Tutorial: Artifacts" left — raw-image folders and the "Iris
    collection" in versions 1 to 3."""
    ln.track(ln.Transform(name="Tutorial: Artifacts", type="notebook", key="tutorial", version="0"))
    members = []
    descriptions = ["Iris study 0", "Now includes study1_raw_images", "Now includes study2_raw_images"]
    for study, description in enumerate(descriptions):
        folder = root.parent / "raw" / f"study{study}_raw_images"
        folder.mkdir(parents=True)
        for i in range(5):
            (folder / f"iris-{i:04}.jpg").write_text(f"raw image {i} of study {study}\n")
        members.append(ln.Artifact(folder, key=f"iris_studies/study{study}_raw_images").save())
        ln.Collection(
            list(members), name="Iris collection", version=str(study + 1), description=description
        ).save()
    ln.finish()


def show(value, cell: int, graphs: Path) -> None:
    """What Jupyter shows of a cell's last expression."""
    if value is None:
        return
    if hasattr(value, "_repr_svg_"):
        (graphs / f"cell{cell}.svg").write_text(value._repr_svg_())
    elif hasattr(value, "to_string"):
        print(value.to_string())
    else:
        print(repr(value))


def run_cell(source: str, namespace: dict, cell: int, graphs: Path) -> tuple[str, object]:
    """Runs a cell as a notebook does; returns what it printed and its shown value."""
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    out = io.StringIO()
    value = None
    with contextlib.redirect_stdout(out):
        exec(compile(tree, f"<cell {cell}>", "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), f"<cell {cell}>", "eval"), namespace)
            show(value, cell, graphs)
    return out.getvalue(), value


def masked(text: str) -> str:
    """Text with uids masked (`uid='…'`)."""
    return re.sub(r"uid='[A-Za-z0-9]+'", "uid='…'", text)


@pytest.mark.usefixtures("instance")
def test_the_tutorial_runs_with_lamella(instance, tmp_path, monkeypatch):
    work = tmp_path / "notebook"
    work.mkdir()
    graphs = tmp_path / "graphs"
    graphs.mkdir()
    monkeypatch.chdir(work)
    previous_tutorial(instance)
    ln.settings.verbosity = "success"

    cells = tutorial_cells(TUTORIAL.read_text())
    namespace: dict = {}
    printed: list[str] = []
    shown: list[object] = []
    for i, source in enumerate(cells):
        source = source.replace("import lamindb as ln", "import lamella as ln")
        if source.startswith("for feature in features:"):  # deviation 4
            printed.append("")
            shown.append(None)
            continue
        if "ulabels.study0" in source:  # deviation 2
            source = "ulabels = ln.ULabel.lookup()\n" + source
        if source.startswith("ln.settings.transform.stem_uid"):  # deviation 3
            source = (
                'ln.settings.transform.name = "Tutorial: Features & labels"\n'
                'ln.settings.transform.key = "tutorial2"\n' + source
            )
        out, value = run_cell(source, namespace, i, graphs)
        printed.append(out)
        shown.append(value)

    # Re-cap: a label, then a label through a feature, shown by describe()
    assert "Labels:\n  📎 ulabels (1, ULabel): 'Study 0: initial plant gathering'" in printed[1]
    assert (
        "Features:\n  external: FeatureSet(uid='…', n=1, registry='Feature')\n"
        "    🔗 study_name (1, cat[ULabel]): 'Study 0: initial plant gathering'\n"
    ) in masked(printed[2])
    assert "✅ linked" in printed[2]
    # hierarchies drawn with their children
    for cell, names in [(4, ["is_species", "setosa", "virginica"]), (5, ["is_study", "study2"])]:
        svg = (graphs / f"cell{cell}.svg").read_text()
        assert svg.startswith("<svg") or svg.startswith("<?xml")
        assert all(n in svg for n in names)
    # the model's run: tracked, its input downloaded, the parents drawn
    assert "💡" in printed[7] or namespace["df"] is not None
    assert sorted(p.name for p in work.iterdir()) == [f"iris-{i:04}.jpg" for i in range(5)]
    head = shown[8]
    assert list(head.columns) == [
        "sepal_length", "sepal_width", "petal_length", "petal_width", "iris_organism_name"
    ]
    assert head.iloc[0].tolist() == [0.051, 0.035, 0.014, 0.002, "setosa"]
    assert "Tutorial: Artifacts" in (graphs / "cell9.svg").read_text()
    # features of the table, its artifact, its feature sets
    assert [f.dtype for f in namespace["new_features"]] == ["float"] * 4 + ["cat"]
    a = namespace["artifact"]
    assert (a.suffix, a.accessor) == (".parquet", "DataFrame")
    assert a.description == "Iris study 1 - after measuring sepal & petal metrics"
    assert masked(printed[14]).strip() == (
        "Features:\n  columns: FeatureSet(uid='…', n=5, registry='Feature')\n"
        "    sepal_length (float)\n    sepal_width (float)\n    petal_length (float)\n"
        "    petal_width (float)\n    iris_organism_name (cat)"
    )
    assert shown[15]["name"].tolist() == [
        "sepal_length", "sepal_width", "petal_length", "petal_width", "iris_organism_name"
    ]
    assert "linked new feature 'iris_species_name' together with new feature set" in printed[16]
    external = masked(printed[18])
    assert "  external: FeatureSet(uid='…', n=2, registry='Feature')" in external
    assert "    🔗 study_name (1, cat[ULabel]): 'study0'" in external
    assert "    🔗 iris_species_name (3, cat[ULabel]): 'setosa', 'versicolor', 'virginica'" in external
    assert external.index("  external:") < external.index("  columns:")
    assert "📎 ulabels (4, ULabel): " in printed[19]
    for name in ["'setosa'", "'versicolor'", "'virginica'", "'study0'"]:
        assert name in printed[19].split("Labels:")[1]
    assert "Petal &amp; sepal regressor" in (graphs / "cell19.svg").read_text()
    assert all(r in printed[20] for r in ["Feature", "FeatureSet", "ULabel", "iris_organism_name"])
    # follow-up data in a new analysis, a joint collection, concatenated
    current = ln.core.run_context.transform
    assert current.uid.startswith("dMtrt8YMSdl6") and current.version == "1"
    assert namespace["artifact2"].description == "Iris study 2 - transformed"
    tail = shown[25]
    assert len(namespace["collection"].load()) == 150
    assert tail.index.tolist() == [145, 146, 147, 148, 149]
    assert tail.iloc[0].tolist() == [0.067, 0.030, 0.052, 0.023, "virginica"]
    assert shown[26]["description"].tolist() == [
        "Iris study 1 - after measuring sepal & petal metrics", "Iris study 2 - transformed"
    ]
    assert "Tutorial: Features &amp; labels" in (graphs / "cell27.svg").read_text()
    for registry in ["Artifact", "Collection", "Feature", "FeatureSet", "Run", "Storage", "Transform", "ULabel", "User"]:
        assert re.search(rf"^{registry}( \(|$)", printed[28], re.M), registry
    # appendix: duplicates, update, delete, storage
    assert "❗ loaded ULabel record with same name: 'project1'" in printed[30]
    assert repr(shown[31]) == "ULabel(name='project 1')"
    assert shown[33].name == "project1a" and shown[33].uid == shown[32].uid
    assert ln.ULabel.filter(name__startswith="project1").count() == 0
    assert Path(shown[35]) == Path(instance)
    assert len(shown[36]) >= 1
