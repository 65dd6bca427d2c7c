"""The README's "From Python" block runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_python_block_runs(tmp_path, monkeypatch, capsys):
    text = README.read_text()
    section = text.split("## From Python", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LAMELLA_HOME", str(tmp_path / "home"))
    (tmp_path / "iris.csv").write_text("sepal_length,species\n5.1,setosa\n")
    namespace: dict = {}
    exec(compile(block, str(README), "exec"), namespace)
    ln = namespace["ln"]
    assert ln.ULabel.filter(name__startswith="study").count() == 3
    assert namespace["artifact"].load()["species"].tolist() == ["setosa"]
    assert (tmp_path / "mydata").is_dir()
    assert "study2" in (tmp_path / "studies.svg").read_text()
    assert [f.name for f in namespace["artifact"].features["columns"].members] == [
        "sepal_length",
        "species",
    ]
    out = capsys.readouterr().out
    assert "📎 transform: Transform(uid=" in out and "name='my analysis'" in out
    assert "🔗 study (1, cat[ULabel]): 'study0'" in out
