"""The rest of the tutorial's API: hierarchies, lookups, tracking, feature sets, feature
values, paths, lineage, views, and what bad input gives."""

import datetime
import os

import pytest

import lamella as ln

pytestmark = pytest.mark.usefixtures("instance")


def labels(*names):
    return ln.save([ln.ULabel(name=n) for n in names])


def test_hierarchies_are_set_changed_queried_and_drawn(tmp_path):
    setosa, versicolor, virginica = labels("setosa", "versicolor", "virginica")
    is_species = ln.ULabel(name="is_species").save()
    is_species.children.set([setosa, versicolor])
    assert sorted(x.name for x in is_species.children.all()) == ["setosa", "versicolor"]
    is_species.children.add(virginica)
    is_species.children.remove(setosa)
    assert sorted(x.name for x in is_species.children.all()) == ["versicolor", "virginica"]
    assert [p.name for p in virginica.parents.all()] == ["is_species"]
    found = ln.ULabel.filter(parents__name="is_species").df()
    assert sorted(found["name"]) == ["versicolor", "virginica"]
    graph = is_species.view_parents(with_children=True)
    assert "virginica" in graph.svg and "virginica" in graph.dot and "virginica" in graph.mermaid
    assert graph._repr_svg_() == graph.svg
    for suffix in ("svg", "dot", "mmd"):
        graph.save(tmp_path / f"species.{suffix}")
        assert "versicolor" in (tmp_path / f"species.{suffix}").read_text()
    with pytest.raises(ln.LamellaError, match="format"):
        graph.save(tmp_path / "species.png")
    with pytest.raises(ln.LamellaError, match="not saved"):
        is_species.children.add(ln.ULabel(name="unsaved"))


def test_lookup_and_search():
    labels("Study 0: initial plant gathering", "study1")
    lookup = ln.ULabel.lookup()
    assert lookup.study1.name == "study1"
    assert "study1" in dir(lookup)
    with pytest.raises(AttributeError, match="no ULabel under 'nope'"):
        lookup.nope
    hits = ln.ULabel.search("study1")
    assert hits["name"].iloc[0] == "study1"
    assert "match" in hits.columns
    ln.Feature(name="iris_species_name", dtype="cat").save()
    assert ln.Feature.lookup().iris_species_name.dtype == "cat"


def test_tracking_records_transforms_runs_and_inputs(tmp_path, capsys):
    ln.settings.verbosity = "hint"
    try:
        folder = tmp_path / "images"
        folder.mkdir()
        for i in range(3):
            (folder / f"img{i}.jpg").write_text(f"image {i}")
        raw = ln.Artifact(folder, key="raw/images").save()
        transform = ln.Transform(name="regressor", type="pipeline")
        ln.track(transform=transform)
        assert transform.uid is not None and len(transform.uid) == 16
        assert "💡 saved: Transform(" in capsys.readouterr().out
        assert ln.core.run_context.transform == transform
        run = ln.core.run_context.run
        os.chdir(tmp_path)
        paths = raw.path.glob("*")
        assert sorted(p.name for p in paths) == ["img0.jpg", "img1.jpg", "img2.jpg"]
        got = [p.download_to(tmp_path / "dl" / p.name) for p in paths]
        assert sorted(x.read_text() for x in got) == ["image 0", "image 1", "image 2"]
        out = ln.Artifact.from_df(ln.core.datasets.df_iris_in_meter_study1(), description="out").save()
        assert out.run_id == run.id and out.transform_id == transform.id
        ln.finish()
        assert ln.core.run_context.run is None
        assert ln.Run.filter(uid=run.uid).one().finished_at is not None
        # the input was recorded: the lineage of the output shows it
        svg = out.view_lineage().svg
        assert "raw/images" in svg and "regressor" in svg
    finally:
        ln.settings.verbosity = "success"


def test_track_without_a_transform_uses_the_settings():
    ln.settings.transform.name = "my notebook"
    ln.settings.transform.key = "nb.ipynb"
    ln.settings.transform.stem_uid = "dMtrt8YMSdl6"
    ln.settings.transform.version = "1"
    try:
        ln.track()
        t = ln.core.run_context.transform
        assert (t.uid, t.name, t.key, t.version) == ("dMtrt8YMSdl60000", "my notebook", "nb.ipynb", "1")
        ln.finish()
        ln.settings.transform.stem_uid = "short"
        with pytest.raises(ln.ValidationError, match="stem_uid"):
            ln.track()
    finally:
        ln.settings.transform = type(ln.settings.transform)()


def test_feature_sets_and_slots():
    df = ln.core.datasets.df_iris_in_meter_study1()
    features = ln.Feature.from_df(df)
    assert [(f.name, f.dtype) for f in features] == [
        ("sepal_length", "float"), ("sepal_width", "float"), ("petal_length", "float"),
        ("petal_width", "float"), ("iris_organism_name", "cat"),
    ]
    assert all(f.uid is None for f in features)
    ln.save(features)
    a = ln.Artifact.from_df(df, description="study 1").save()
    fs = ln.FeatureSet(features)
    a.features.add_feature_set(fs, slot="columns")
    assert fs.uid is not None and fs.n == 5
    again = ln.FeatureSet(ln.Feature.filter(name__in=[f.name for f in features]).all()).save()
    assert again.uid == fs.uid  # the same members are the same set
    assert a.features["columns"] == fs
    assert a.features["columns"].df()["name"].tolist() == [f.name for f in features]
    assert len(ln.FeatureSet.df()) == 1
    assert repr(a.features).startswith("Features:\n  columns: FeatureSet(")
    assert a.features.keys() == ["columns"]
    with pytest.raises(KeyError, match="the slots are \\['columns'\\]"):
        a.features["obs"]


def test_feature_values_are_typed_and_queried():
    ln.Feature(name="temperature", dtype="float").save()
    ln.Feature(name="measured_on", dtype="date").save()
    ln.Feature(name="split", dtype="cat").save()
    ln.save([ln.ULabel(name="train"), ln.ULabel(name="test")])
    df = ln.core.datasets.df_iris_in_meter_study1()
    warm = ln.Artifact.from_df(df, description="warm").save()
    cold = ln.Artifact.from_df(df.head(3), description="cold").save()
    warm.features.add_values(
        {"temperature": 37, "measured_on": datetime.date(2025, 3, 1), "split": "train"}
    )
    cold.features.add_values({"temperature": 4.5, "split": "test"})
    values = warm.features.get_values()
    assert values["temperature"] == 37.0
    assert values["measured_on"] == "2025-03-01"
    assert values["split"] == "train"
    assert [a.description for a in ln.Artifact.filter(temperature__gt=20).all()] == ["warm"]
    assert ln.Artifact.filter(measured_on__gte="2025-01-01").one() == warm
    assert ln.Artifact.filter(split="test").one() == cold
    with pytest.raises(ln.ValidationError, match="temperature"):
        cold.features.add_values({"temperature": "warm"})
    with pytest.raises(ln.LamellaError, match="temprature|temperature"):
        ln.Artifact.filter(temprature__gt=1).count()
    cold.features.set_values({"temperature": 5})
    assert cold.features.get_values()["temperature"] == 5.0
    assert cold.features.remove_values("split") == 1
    assert "split" not in cold.features.get_values()
    with pytest.raises(TypeError, match="dict"):
        cold.features.add_values([("temperature", 1)])


def test_artifact_paths_on_local_storage(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("x\n1\n")
    a = ln.Artifact(f, key="tables/a.csv").save()
    p = a.path
    # a virtual key: the object is stored under its uid, as LaminDB stores it
    assert p.name == f"{a.uid}.csv" and p.suffix == ".csv" and p.exists() and p.is_file()
    assert open(p).read() == "x\n1\n"  # a local path is os.PathLike
    assert p.download_to(tmp_path / "copy.csv").read_text() == "x\n1\n"


def test_collections_list_their_members_and_draw_lineage():
    df = ln.core.datasets.df_iris_in_meter_study1()
    a1 = ln.Artifact.from_df(df, description="one").save()
    a2 = ln.Artifact.from_df(ln.core.datasets.df_iris_in_meter_study2(), description="two").save()
    c = ln.Collection([a2, a1], name="both").save()
    assert c.artifacts[0] == a2
    assert c.artifacts.df()["description"].tolist() == ["two", "one"]
    assert "both" in c.view_lineage().svg
    assert len(c.load()) == 150


def test_view_prints_registries(capsys):
    labels("a", "b")
    ln.view(registries=["ULabel"])
    out = capsys.readouterr().out
    assert out.startswith("ULabel\n") and " a " in out
    with pytest.raises(TypeError):
        ln.view(registries="ULabel")


def test_settings():
    assert ln.settings.storage.is_dir()
    ln.settings.verbosity = 4
    assert ln.settings.verbosity == "hint"
    with pytest.raises(ValueError):
        ln.settings.verbosity = "loud"
    ln.settings.verbosity = "success"


def test_bad_input_gives_clear_exceptions():
    with pytest.raises(TypeError, match="name must be text"):
        ln.ULabel(name=3)
    with pytest.raises(TypeError, match="unknown fields"):
        ln.Feature(name="x", kind="float")
    with pytest.raises(ln.ValidationError, match="needs a dtype"):
        ln.Feature(name="x").save()
    with pytest.raises(ln.ValidationError):
        ln.Feature(name="x", dtype="floaty").save()
    with pytest.raises(TypeError):
        ln.save([1])
    with pytest.raises(ln.LamellaError, match="made by Lamella"):
        ln.Run()
    with pytest.raises(ln.LamellaError, match="ln.track"):
        ln.Transform(name="t").save()
    with pytest.raises(TypeError, match="FeatureSet"):
        ln.FeatureSet([])
    with pytest.raises(ln.DoesNotExist):
        ln.ULabel.get("nope0000")
    with pytest.raises(ln.ValidationError, match="lookup value"):
        ln.ULabel.filter(name=object()).count()
    label = ln.ULabel(name="x").save()
    with pytest.raises(TypeError, match="ULabel"):
        label.children.set(["y"])


def test_artifact_paths_on_s3(s3_root, tmp_path, monkeypatch):
    monkeypatch.setenv("LAMELLA_HOME", str(tmp_path / "s3home"))
    ln.init(storage=s3_root)
    folder = tmp_path / "images"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.jpg").write_text("a")
    (folder / "sub" / "b.jpg").write_text("b")
    art = ln.Artifact(folder, key="raw/images").save()
    p = art.path
    assert str(p).startswith("s3://") and p.is_dir()
    assert sorted(x.name for x in p.glob("*")) == ["a.jpg", "sub"]
    assert sorted(str(x).rsplit("/", 2)[-1] for x in p.glob("**/*.jpg")) == ["a.jpg", "b.jpg"]
    got = p.download_to(tmp_path / "down")
    assert (got / "sub" / "b.jpg").read_text() == "b"
    assert (p / "a.jpg").download_to(tmp_path / "a.jpg").read_text() == "a"
    with pytest.raises(TypeError, match="in the cloud"):
        open(p / "a.jpg")


def test_validation_and_the_curator(capsys):
    import pandas as pd

    ln.save([ln.ULabel(name="setosa"), ln.ULabel(name="versicolor")])
    setosa = ln.ULabel.get(name="setosa")
    setosa.add_synonym("Setosa")
    assert ln.ULabel.validate(["setosa", "Setosa", "virginca"]).tolist() == [True, False, False]
    result = ln.ULabel.inspect(["setosa", "Setosa", "versicolr"])
    assert result.validated == ["setosa"]
    assert result.non_validated == ["Setosa", "versicolr"]
    assert "did you mean 'versicolor'" in capsys.readouterr().out
    assert ln.ULabel.standardize(["Setosa", "x"]) == ["setosa", "x"]
    assert ln.ULabel.standardize(["Setosa"], return_mapping=True) == {"Setosa": "setosa"}
    with pytest.raises(TypeError, match="text"):
        ln.ULabel.validate([1])

    ln.Feature(name="species", dtype="cat[ULabel]").save()
    ln.Feature(name="length", dtype="float").save()
    df = pd.DataFrame({"species": ["Setosa", "versicolor", "virginica"], "length": [1.0, 2.0, 3.0]})
    curator = ln.Curator.from_df(df, categoricals=["species"])
    assert curator.validate() is False
    issue = curator.report["issues"][0]
    assert issue["column"] == "species"
    with pytest.raises(ln.ValidationError, match="species"):
        curator.save_artifact(description="curated")
    curator.standardize()
    assert curator.df["species"].tolist() == ["setosa", "versicolor", "virginica"]
    curator.add_new_from("species")
    assert curator.validate() is True
    artifact = curator.save_artifact(description="curated")
    assert sorted(x.name for x in artifact.labels.all()) == ["setosa", "versicolor", "virginica"]
    assert artifact.features["columns"].members[0].name == "species"
    with pytest.raises(TypeError, match="categoricals"):
        ln.Curator.from_df(df, categoricals={"species": 3})


def test_records_of_another_instance_are_not_found_here(tmp_path, monkeypatch):
    label = ln.ULabel(name="only here").save()
    monkeypatch.setenv("LAMELLA_HOME", str(tmp_path / "other-home"))
    ln.init(storage=tmp_path / "other")
    a = ln.Artifact.from_df(ln.core.datasets.df_iris_in_meter_study1(), description="x").save()
    with pytest.raises(ln.DoesNotExist, match=label.uid):
        a.labels.add(label)


def test_a_closed_instance_is_a_clear_exception(instance):
    label = ln.ULabel(name="before").save()
    ln.close()
    with pytest.raises(ln.LamellaError, match="closed"):
        ln.ULabel.filter().count()
    with pytest.raises(ln.LamellaError, match="closed"):
        label.delete()
    ln.connect(instance)
    assert ln.ULabel.get(name="before") == label
