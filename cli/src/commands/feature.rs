//! `lamella feature …`

use anyhow::Result;
use lamella_core::Feature;

use super::named;
use crate::cli::FeatureCommand;
use crate::output::Out;

/// Runs one `feature` subcommand.
pub fn run(cmd: FeatureCommand, out: &mut Out) -> Result<()> {
    let ln = super::current()?;
    let reg = ln.features();
    match cmd {
        FeatureCommand::Create {
            name,
            dtype,
            unit,
            synonyms,
            description,
        } => {
            let mut f = Feature::new(name, reg.parse_dtype(&dtype)?);
            if let Some(u) = unit {
                f = f.unit(u);
            }
            if let Some(s) = synonyms {
                f = f.synonyms(s.split('|'));
            }
            if let Some(d) = description {
                f = f.description(d);
            }
            let saved = reg.create(f)?;
            named::print_saved(&saved, out)
        }
        FeatureCommand::List(args) => named::list(&reg, &args, out),
        FeatureCommand::Search { text, limit } => named::search(&reg, &text, limit, out),
        FeatureCommand::Delete { name } => named::delete(&reg, &name, out),
    }
}
