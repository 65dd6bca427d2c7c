//! `lamella tutorial DIR`: replays LaminDB's "Features & labels" tutorial
//! (`seed/features-and-labels-tutorial.txt`) in a fresh instance, step by step, printing what
//! each step shows.
//!
//! The tutorial is a list of [`Step`]s run in order. Steps that need registries Lamella does
//! not have yet (artifacts, runs, feature sets, collections) are not in the list; a comment marks
//! where each belongs, so adding one is adding a function and a line to [`STEPS`].

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use lamella_core::{Feature, Instance, Named, Storage, ULabel};

use crate::commands::{print_saved, print_saved_all, print_views, tree_lines, write_graph};
use crate::output::{Out, quote, repr};

/// One step of the tutorial: a heading and what it does.
struct Step {
    /// The heading printed before the step.
    title: &'static str,
    /// Runs the step, printing what it shows.
    run: fn(&mut Tutorial<'_>) -> Result<()>,
}

/// The tutorial's steps, in the seed tutorial's order.
const STEPS: &[Step] = &[
    // Re-cap
    Step {
        title: "Re-cap: create a label",
        run: create_study0,
    },
    // (later: query the raw-images artifact, `artifact.labels.add(study0)`, `describe()`)
    Step {
        title: "Associate labels with a feature",
        run: create_study_name_feature,
    },
    // (later: `artifact.labels.add(study0, feature)`, `describe()`)
    // Register metadata
    Step {
        title: "Register labels",
        run: register_species,
    },
    Step {
        title: "Express that all 3 labels are species labels",
        run: species_hierarchy,
    },
    Step {
        title: "Register study labels",
        run: study_hierarchy,
    },
    Step {
        title: "Register features",
        run: register_features,
    },
    // (later: Run an ML model — track a transform; Register the output data —
    //  `Feature.from_df`, `Artifact.from_df`, feature sets, `labels.add` with features,
    //  `describe()`, `view_lineage()`)
    Step {
        title: "See the database content",
        run: view_some,
    },
    // (later: Manage follow-up data — track, a second artifact, a collection, `load()`,
    //  `collection.artifacts`, `view_lineage()`, then `ln.view()`)
    // Appendix: manage metadata
    Step {
        title: "Avoid duplicates: create a label \"project1\"",
        run: create_project1,
    },
    Step {
        title: "Create \"project1\" again",
        run: create_project1_again,
    },
    Step {
        title: "Spell \"project 1\" with a white space",
        run: create_project_1,
    },
    Step {
        title: "Query a record",
        run: query_project1,
    },
    Step {
        title: "Update a record",
        run: rename_project1,
    },
    Step {
        title: "Delete a record",
        run: delete_project1a,
    },
    // Appendix: manage storage
    Step {
        title: "The default storage location",
        run: default_storage,
    },
    Step {
        title: "See all storage locations",
        run: all_storages,
    },
    Step {
        title: "Look at the database",
        run: view_all,
    },
];

/// The state the steps share.
struct Tutorial<'a> {
    ln: Instance,
    /// The tutorial's folder (the instance's storage root).
    dir: PathBuf,
    out: &'a mut Out,
}

impl Tutorial<'_> {
    /// The equivalent CLI command, shown before a step's output.
    fn shell(&mut self, command: impl AsRef<str>) -> Result<()> {
        self.out.line(format!("$ lamella {}", command.as_ref()))
    }

    fn label(&self, name: &str) -> Result<ULabel> {
        Ok(self.ln.ulabels().get_by_name(name)?)
    }

    /// The equivalent library call, for steps the CLI has no single command for.
    fn rust(&mut self, code: impl AsRef<str>) -> Result<()> {
        self.out.line(format!("rust> {}", code.as_ref()))
    }

    /// Where graphs of this tutorial are written.
    fn graph_files(&self, stem: &str) -> Vec<PathBuf> {
        ["svg", "dot", "mmd"]
            .iter()
            .map(|ext| self.dir.join("graphs").join(format!("{stem}.{ext}")))
            .collect()
    }

    /// Creates the label `parent`, sets `children` as its children, and shows the hierarchy
    /// (a tree here, SVG, DOT and Mermaid files in `graphs/`).
    fn hierarchy(&mut self, parent: &str, children: &[ULabel]) -> Result<()> {
        let ln = self.ln.clone();
        let reg = ln.ulabels();
        self.shell(format!("ulabel create {parent}"))?;
        let p = reg.create(ULabel::new(parent))?;
        print_saved(&p, self.out)?;
        reg.children(&p)?.set(children)?;
        self.out.blank()?;
        let names: Vec<&str> = children.iter().map(|c| c.name.as_str()).collect();
        self.rust(format!(
            "ln.ulabels().children(&{parent})?.set(&[{}])",
            names.join(", ")
        ))?;
        let files = self.graph_files(parent);
        self.shell(format!(
            "ulabel parents {parent} --children --out {}",
            files[0].display()
        ))?;
        let graph = reg.view_parents(&p, true, 5)?;
        write_graph(&graph, &files)?;
        for l in tree_lines(&graph) {
            self.out.line(l)?;
        }
        for f in &files {
            self.out.line(format!("wrote {}", f.display()))?;
        }
        Ok(())
    }
}

/// `lamella tutorial DIR [--db URL]`
pub fn run(dir: &Path, db: Option<&str>, out: &mut Out) -> Result<()> {
    if out.json {
        bail!(
            "the tutorial prints a walkthrough for people and has no JSON output: run it without --json"
        );
    }
    if dir.is_file() {
        bail!(
            "{} is a file: give a new or empty folder for the tutorial's instance",
            dir.display()
        );
    }
    if dir.is_dir()
        && std::fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{} is not empty: the tutorial creates a fresh instance, give a new or empty folder",
            dir.display()
        );
    }
    out.inline_messages();
    let ln = Instance::init(dir, db)?;
    let info = ln.info()?;
    out.line("Lamella tutorial: Features & labels")?;
    out.note(format!(
        "created instance {} at {} ({})",
        info.uid, info.root, info.backend
    ))?;
    let mut t = Tutorial {
        dir: PathBuf::from(ln.root()),
        ln,
        out,
    };
    for (i, step) in STEPS.iter().enumerate() {
        t.out.blank()?;
        t.out.line(format!("## {}. {}", i + 1, step.title))?;
        (step.run)(&mut t).with_context(|| format!("tutorial step {} ({})", i + 1, step.title))?;
    }
    t.out.blank()?;
    t.out.line(format!(
        "This is it! The tutorial's instance at {} is now the current instance: explore it with \
         `lamella view` or `lamella ulabel list --filter parents__name=is_species`, and remove it \
         with `lamella delete`.",
        t.dir.display()
    ))
}

fn create_study0(t: &mut Tutorial<'_>) -> Result<()> {
    t.shell("ulabel create 'Study 0: initial plant gathering' --description 'My initial study'")?;
    let saved = t
        .ln
        .ulabels()
        .create(ULabel::new("Study 0: initial plant gathering").description("My initial study"))?;
    print_saved(&saved, t.out)
}

fn create_study_name_feature(t: &mut Tutorial<'_>) -> Result<()> {
    t.shell("feature create study_name --dtype cat")?;
    let saved = t.ln.features().create(Feature::new("study_name", "cat"))?;
    print_saved(&saved, t.out)
}

fn register_species(t: &mut Tutorial<'_>) -> Result<()> {
    t.out
        .line("We study 3 species of the Iris plant: setosa, versicolor & virginica.")?;
    t.rust(r#"ln.ulabels().save_all(["setosa", "versicolor", "virginica"].map(ULabel::new))"#)?;
    let saved =
        t.ln.ulabels()
            .save_all(["setosa", "versicolor", "virginica"].map(ULabel::new))?;
    print_saved_all(&saved, t.out)
}

fn species_hierarchy(t: &mut Tutorial<'_>) -> Result<()> {
    t.out.line(
        "Anticipating many different labels, we express that all 3 labels are species labels.",
    )?;
    let species: Vec<ULabel> = ["setosa", "versicolor", "virginica"]
        .iter()
        .map(|n| t.label(n))
        .collect::<Result<_>>()?;
    t.hierarchy("is_species", &species)
}

fn study_hierarchy(t: &mut Tutorial<'_>) -> Result<()> {
    t.rust(r#"ln.ulabels().save_all(["study0", "study1", "study2"].map(ULabel::new))"#)?;
    let studies =
        t.ln.ulabels()
            .save_all(["study0", "study1", "study2"].map(ULabel::new))?;
    print_saved_all(&studies, t.out)?;
    t.out.blank()?;
    t.hierarchy("is_study", &studies.records)
}

fn register_features(t: &mut Tutorial<'_>) -> Result<()> {
    t.shell("feature create iris_species_name --dtype cat")?;
    let saved =
        t.ln.features()
            .create(Feature::new("iris_species_name", "cat"))?;
    print_saved(&saved, t.out)?;
    t.out.blank()?;
    t.rust("let features = ln.features().lookup()?;   // records by identifier-safe name")?;
    let features = t.ln.features().lookup()?;
    for key in features.keys() {
        if let Some(f) = features.get(key) {
            t.out
                .line(format!("features.get(\"{key}\") → {}", repr(f)?))?;
        }
    }
    let ulabels = t.ln.ulabels().lookup()?;
    t.out.line(format!(
        "let ulabels = ln.ulabels().lookup()?;   // keys: {}",
        ulabels.keys().join(", ")
    ))
}

fn view_some(t: &mut Tutorial<'_>) -> Result<()> {
    t.shell("view --registry Feature --registry FeatureSet --registry ULabel")?;
    print_views(&t.ln, 7, &["Feature", "FeatureSet", "ULabel"], t.out)
}

fn create_project1(t: &mut Tutorial<'_>) -> Result<()> {
    t.shell("ulabel create project1")?;
    let saved = t.ln.ulabels().create(ULabel::new("project1"))?;
    print_saved(&saved, t.out)
}

fn create_project1_again(t: &mut Tutorial<'_>) -> Result<()> {
    t.out.line(
        "Instead of creating a new record, Lamella loads and returns the existing one (same uid).",
    )?;
    t.shell("ulabel create project1")?;
    let saved = t.ln.ulabels().create(ULabel::new("project1"))?;
    print_saved(&saved, t.out)
}

fn create_project_1(t: &mut Tutorial<'_>) -> Result<()> {
    t.out.line(
        "Without an exact match, Lamella warns about potential duplicates when creating a record.",
    )?;
    t.shell("ulabel create 'project 1'")?;
    let saved = t.ln.ulabels().create(ULabel::new("project 1"))?;
    print_saved(&saved, t.out)
}

fn query_project1(t: &mut Tutorial<'_>) -> Result<()> {
    t.shell("ulabel list --filter name=project1 --limit 1")?;
    match t.ln.ulabels().filter("name", "project1").first()? {
        Some(label) => t.out.line(repr(&label)?),
        None => bail!("no label 'project1' found"),
    }
}

fn rename_project1(t: &mut Tutorial<'_>) -> Result<()> {
    t.shell("ulabel update project1 --name project1a")?;
    let mut label = t.label("project1")?;
    label.name = "project1a".into();
    t.ln.ulabels().update(&mut label)?;
    t.out.line(repr(&label)?)
}

fn delete_project1a(t: &mut Tutorial<'_>) -> Result<()> {
    t.shell("ulabel delete project1a")?;
    let label = t.label("project1a")?;
    t.ln.ulabels().delete(&label)?;
    t.out
        .line(format!("✅ deleted ULabel {}", quote(label.name_str())))
}

fn default_storage(t: &mut Tutorial<'_>) -> Result<()> {
    t.shell("info")?;
    let root = t.ln.root().to_string();
    t.out.line(root)
}

fn all_storages(t: &mut Tutorial<'_>) -> Result<()> {
    t.shell("view --registry Storage")?;
    let storages = t.ln.query::<Storage>().order_by("-id").all()?;
    t.out.records(&storages)
}

fn view_all(t: &mut Tutorial<'_>) -> Result<()> {
    t.shell("view")?;
    print_views(&t.ln, 7, &[], t.out)
}
