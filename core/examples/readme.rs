//! The Rust example of the README, as written there (a test checks they agree).

use lamella_core::{Dtype, Feature, Instance, ULabel};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A fresh folder for the instance: SQLite inside it + the folder as storage. Nothing is
    // written to ~/.lamella unless `.remember()` asks for it.
    let dir = std::env::temp_dir().join(format!("lamella-example-{}", std::process::id()));
    let ln = Instance::builder(dir.join("mydata")).create()?;
    // Every record is a draft saved by `.save()`, like artifacts and collections.
    let study0 = ln
        .ulabels()
        .create(ULabel::new("study0").description("My initial study"))
        .save()?;
    let species = ln
        .ulabels()
        .save_all(["setosa", "versicolor", "virginica"].map(ULabel::new))?;
    let is_species = ln.ulabels().create(ULabel::new("is_species")).save()?;
    ln.ulabels().children(&is_species)?.set(&species.records)?;
    let f = ln
        .features()
        .create(Feature::new("iris_species_name", Dtype::Cat(vec![])))
        .save()?;
    let hits = ln.ulabels().filter("parents__name", "is_species").all()?;
    println!(
        "{} ({}): {} species; feature {} ({})",
        study0.name,
        study0.uid,
        hits.len(),
        f.name,
        f.dtype
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
