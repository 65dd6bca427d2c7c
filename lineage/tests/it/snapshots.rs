use lamella_lineage::{to_dot, to_mermaid};

use crate::{nasty, provenance, species};

#[test]
fn species_dot() {
    insta::assert_snapshot!(to_dot(&species()));
}

#[test]
fn species_mermaid() {
    insta::assert_snapshot!(to_mermaid(&species()));
}

#[test]
fn provenance_dot() {
    insta::assert_snapshot!(to_dot(&provenance()));
}

#[test]
fn provenance_mermaid() {
    insta::assert_snapshot!(to_mermaid(&provenance()));
}

#[test]
fn special_characters_dot() {
    insta::assert_snapshot!(to_dot(&nasty()));
}

#[test]
fn special_characters_mermaid() {
    insta::assert_snapshot!(to_mermaid(&nasty()));
}

#[test]
fn renderings_are_deterministic() {
    assert_eq!(to_dot(&provenance()), to_dot(&provenance()));
    assert_eq!(to_mermaid(&species()), to_mermaid(&species()));
}
