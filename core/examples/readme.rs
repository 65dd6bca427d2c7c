//! The Rust example of the README, as written there (a test checks they agree).

use lamella_core::{Dtype, Feature, Instance, ULabel};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    // SQLite + a local folder; nothing is written to ~/.lamella unless `.remember()` asks.
    let ln = Instance::builder(dir.path().join("mydata")).create()?;
    let study0 = ln
        .ulabels()
        .create(ULabel::new("study0").description("My initial study"))?;
    let species = ln
        .ulabels()
        .save_all(["setosa", "versicolor", "virginica"].map(ULabel::new))?;
    let is_species = ln.ulabels().create(ULabel::new("is_species"))?;
    ln.ulabels().children(&is_species)?.set(&species.records)?;
    let f = ln
        .features()
        .create(Feature::new("iris_species_name", Dtype::Cat(vec![])))?;
    let hits = ln.ulabels().filter("parents__name", "is_species").all()?;
    println!(
        "{} ({}): {} species; feature {} ({})",
        study0.name,
        study0.uid,
        hits.len(),
        f.name,
        f.dtype
    );
    Ok(())
}
