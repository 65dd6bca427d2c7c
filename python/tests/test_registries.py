"""The registries, artifacts and collections from Python, in a fresh instance per test on
SQLite and PostgreSQL (see conftest.py)."""

import threading

import pytest

import lamella as ln

pytestmark = pytest.mark.usefixtures("instance")


def test_labels_are_saved_found_and_listed():
    study0 = ln.ULabel(name="study0", description="My initial study").save()
    assert len(study0.uid) == 8
    assert study0.description == "My initial study"
    assert repr(study0).startswith(f"ULabel(uid='{study0.uid}', name='study0'")
    # The same name again is the stored record (LaminDB's behaviour).
    again = ln.ULabel(name="study0").save()
    assert again == study0
    ln.save([ln.ULabel(name=f"study{i}") for i in range(1, 4)])
    assert ln.ULabel.filter(name="study2").one().name == "study2"
    assert ln.ULabel.filter(name__startswith="study").count() == 4
    assert ln.ULabel.filter(name__in=["study1", "study3"]).count() == 2
    df = ln.ULabel.filter(name__startswith="study").df()
    assert sorted(df["name"]) == ["study0", "study1", "study2", "study3"]
    assert {"uid", "name", "description", "created_at"} <= set(df.columns)
    assert ln.ULabel.filter(name="nope").one_or_none() is None
    assert ln.ULabel.filter(name="nope").first() is None
    study0.delete()
    assert ln.ULabel.filter(name__startswith="study").count() == 3


def test_features_have_dtypes_and_units():
    f = ln.Feature(name="sepal_length", dtype="float", unit="m").save()
    assert (f.dtype, f.unit) == ("float", "m")
    species = ln.Feature(name="species", dtype="cat[ULabel]").save()
    assert ln.Feature.filter(dtype="cat[ULabel]").one() == species
    assert [x.name for x in ln.Feature.filter(name__startswith="s")] == ["sepal_length", "species"]


def test_bad_input_is_a_clear_exception():
    with pytest.raises(TypeError, match="unknown fields"):
        ln.ULabel(nme="typo")
    with pytest.raises(TypeError, match="must be text"):
        ln.ULabel(name=3)
    with pytest.raises(ln.ValidationError, match="dtype"):
        ln.Feature(name="f", dtype="nonsense").save()
    with pytest.raises(ln.DoesNotExist):
        ln.ULabel.filter(name="nothing").one()
    ln.save([ln.ULabel(name="a b"), ln.ULabel(name="a  b")])
    with pytest.raises(ln.ValidationError):
        ln.ULabel.filter(name=object()).all()
    with pytest.raises(ln.LamellaError):
        ln.ULabel.filter(no_such_field="x").all()
    assert issubclass(ln.DoesNotExist, ln.LamellaError)


def test_threads_save_into_one_instance():
    import pandas as pd

    errors = []

    def work(t):
        try:
            ln.save([ln.ULabel(name=f"thread {t} label {i}") for i in range(25)])
            for i in range(5):
                ln.ULabel(name=f"thread {t} single {i}").save()
                df = pd.DataFrame({"thread": [t], "i": [i]})
                ln.Artifact.from_df(df, description=f"thread {t} table {i}").save()
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert ln.ULabel.filter(name__startswith="thread").count() == 8 * 30
    assert ln.Artifact.filter(description__startswith="thread").count() == 8 * 5


def test_artifacts_and_collections_are_queried():
    assert ln.Artifact.filter().count() == 0
    assert ln.Collection.filter().all() == []


def test_artifacts_from_files_and_dataframes(tmp_path):
    import pandas as pd

    csv = tmp_path / "iris.csv"
    csv.write_text("sepal_length,species\n5.1,setosa\n4.9,setosa\n")
    a = ln.Artifact(csv, key="iris/study0.csv", description="study 0").save()
    assert (a.suffix, a.key, a.hash_type) == (".csv", "iris/study0.csv", "md5")
    assert len(a.hash) == 22
    df = a.load()
    assert list(df["species"]) == ["setosa", "setosa"]
    assert ln.Artifact.filter(key__startswith="iris/").one() == a
    frame = pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]})
    b = ln.Artifact.from_df(frame, description="a frame").save()
    assert (b.suffix, b.accessor, b.n_observations) == (".parquet", "DataFrame", 3)
    assert b.load().equals(frame)
    # The same content again is the saved artifact.
    again = ln.Artifact.from_df(frame, description="again").save()
    assert again == b
    text = tmp_path / "notes.txt"
    text.write_text("not a table")
    c = ln.Artifact(text).save()
    assert open(c.load()).read() == "not a table"
    assert open(c.cache()).read() == "not a table"
    assert ln.Artifact.filter().count() == 3
    with pytest.raises(TypeError, match="path"):
        ln.Artifact(42)
    with pytest.raises(TypeError, match="must be text"):
        ln.Artifact(csv, key=7)


def test_describe_prints_the_artifact(capsys):
    import pandas as pd

    a = ln.Artifact.from_df(pd.DataFrame({"x": [1.5]}), description="one row").save()
    a.describe()
    out = capsys.readouterr().out
    assert out.startswith(f"Artifact(uid='{a.uid}'")
    assert "Provenance:" in out


def test_collections_concatenate_their_tables():
    import pandas as pd

    one = ln.Artifact.from_df(pd.DataFrame({"x": [1, 2], "s": ["a", "b"]}), description="one").save()
    two = ln.Artifact.from_df(pd.DataFrame({"x": [3.5], "t": [True]}), description="two").save()
    c = ln.Collection([one, two], name="both", version="1").save()
    assert (c.name, c.version) == ("both", "1")
    assert [a.uid for a in c.artifacts] == [one.uid, two.uid]
    df = c.load()
    assert list(df["x"]) == [1.0, 2.0, 3.5]
    assert list(df.columns) == ["x", "s", "t"]
    assert ln.Collection.filter(name="both").one() == c
    with pytest.raises(TypeError, match="saved Artifact"):
        ln.Collection(["not an artifact"], name="bad")
    with pytest.raises(ln.LamellaError, match="save the artifacts"):
        ln.Collection([ln.Artifact.from_df(pd.DataFrame({"x": [1]}))], name="unsaved")


def test_labels_are_added_through_features(capsys):
    import pandas as pd

    a = ln.Artifact.from_df(pd.DataFrame({"species": ["setosa"]}), description="iris").save()
    setosa, versicolor = ln.save([ln.ULabel(name="setosa"), ln.ULabel(name="versicolor")])
    species = ln.Feature(name="species", dtype="cat[ULabel]").save()
    a.labels.add([setosa, versicolor], feature=species)
    assert "✅" in capsys.readouterr().out
    assert sorted(x.name for x in a.labels.all()) == ["setosa", "versicolor"]
    assert [x.name for x in a.labels.all(feature=species)] == ["setosa", "versicolor"]
    study = ln.ULabel(name="study0").save()
    a.labels.add(study)
    assert len(a.labels.all()) == 3
    assert ln.Artifact.filter(ulabels__name="study0").one() == a
    a.describe()
    assert "species" in capsys.readouterr().out
    with pytest.raises(TypeError, match="ULabel"):
        a.labels.add(["setosa"])
    with pytest.raises(ln.LamellaError, match="save the label"):
        a.labels.add(ln.ULabel(name="unsaved"))
