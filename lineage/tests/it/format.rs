use std::path::Path;

use lamella_lineage::{Error, Format, render, to_dot, to_mermaid, write_to};

use crate::species;

#[test]
fn from_path_chooses_by_extension() {
    for (path, format) in [
        ("a.dot", Format::Dot),
        ("dir/a.gv", Format::Dot),
        ("a.DOT", Format::Dot),
        ("a.mmd", Format::Mermaid),
        ("a.mermaid", Format::Mermaid),
        ("a.svg", Format::Svg),
        ("a.b.Svg", Format::Svg),
    ] {
        assert_eq!(
            Format::from_path(Path::new(path)).unwrap(),
            format,
            "{path}"
        );
    }
}

#[test]
fn from_path_explains_unknown_and_missing_extensions() {
    let err = Format::from_path(Path::new("out/lineage.png")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown graph format '.png': use .svg, .dot or .mmd"
    );
    let err = Format::from_path(Path::new("out/lineage")).unwrap_err();
    assert!(matches!(err, Error::MissingExtension { .. }));
    assert_eq!(
        err.to_string(),
        "cannot choose a graph format for 'out/lineage': it has no extension; use .svg, .dot or .mmd"
    );
}

#[test]
fn render_dispatches_by_format() {
    let g = species();
    assert_eq!(render(&g, Format::Dot).unwrap(), to_dot(&g));
    assert_eq!(render(&g, Format::Mermaid).unwrap(), to_mermaid(&g));
    assert!(render(&g, Format::Svg).unwrap().contains("<svg"));
    assert_eq!(Format::Mermaid.extension(), "mmd");
}

#[test]
fn write_to_writes_the_chosen_format() {
    let dir = std::env::temp_dir().join(format!("lamella-lineage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let g = species();

    let path = dir.join("species.mmd");
    assert_eq!(write_to(&g, &path).unwrap(), Format::Mermaid);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), to_mermaid(&g));

    let err = write_to(&g, &dir.join("missing-dir").join("species.dot")).unwrap_err();
    assert!(matches!(err, Error::Io { .. }));
    assert!(
        err.to_string().starts_with("could not write graph to '"),
        "{err}"
    );

    std::fs::remove_dir_all(&dir).unwrap();
}
