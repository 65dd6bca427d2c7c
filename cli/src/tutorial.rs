//! `lamella tutorial DIR`: replays LaminDB's "Features & labels" tutorial
//! (`seed/features-and-labels-tutorial.txt`) in a fresh instance, step by step, printing what
//! each step shows.
//!
//! The tutorial is a list of [`Step`]s run in order. A step that shows `$ lamella …` runs that
//! very command through the CLI's own dispatcher ([`Tutorial::cmd`]), so it prints exactly what
//! the command prints; a step that shows `rust> …` makes that library call; adding a step is
//! adding a function and a line to [`STEPS`]. The earlier tutorial's raw-image folders and
//! "Iris collection" versions are stood in for by small generated files. The iris data is
//! Fisher's, shipped by the core (`lamella_core::datasets`).

use std::path::{Path, PathBuf};

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use lamella_core::arrow::array::{ArrayRef, StringArray};
use lamella_core::{Instance, RecordBatch, ULabel};

use clap::Parser;

use crate::cli::Cli;
use crate::commands::{print_head, print_saved_all, print_saved_artifact};
use crate::output::{Out, repr, shell_word};

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
        title: "The previous tutorial: raw images and the Iris collection",
        run: earlier_tutorial,
    },
    Step {
        title: "Re-cap: create a label",
        run: create_study0,
    },
    Step {
        title: "Label the raw images of the previous tutorial",
        run: label_raw_images,
    },
    Step {
        title: "Associate the label with a feature",
        run: label_raw_images_with_feature,
    },
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
    // Run an ML model
    Step {
        title: "Run a mock ML model, tracked as a pipeline",
        run: track_model,
    },
    Step {
        title: "A mock ML model's output: a dataframe",
        run: study1_table,
    },
    Step {
        title: "The pipeline that produced the dataframe: transform.view_parents()",
        run: regressor_parents,
    },
    Step {
        title: "Register the features of the transformed data",
        run: features_from_table,
    },
    Step {
        title: "Track units of features",
        run: feature_units,
    },
    Step {
        title: "Register the output data",
        run: save_study1,
    },
    Step {
        title: "Link its columns as a feature set",
        run: columns_feature_set,
    },
    Step {
        title: "Feature sets: get an overview of linked features",
        run: show_features,
    },
    Step {
        title: "Access all features of the slot \"columns\"",
        run: columns_members,
    },
    Step {
        title: "There is one categorical feature, let's add the species labels",
        run: add_species_labels,
    },
    Step {
        title: "Let's now add study labels",
        run: add_study_labels,
    },
    Step {
        title: "In addition to the columns feature set, we now have an external feature set",
        run: show_features,
    },
    Step {
        title: "This is the context for our artifact",
        run: describe_study1,
    },
    Step {
        title: "artifact.view_lineage()",
        run: study1_lineage,
    },
    Step {
        title: "Which datasets measured petal_width? Which are labelled setosa?",
        run: find_study1,
    },
    // (later: `artifact.view_lineage()`)
    Step {
        title: "See the database content",
        run: view_some,
    },
    // Manage follow-up data
    Step {
        title: "Manage follow-up data: track a new analysis",
        run: track_analysis,
    },
    Step {
        title: "Register a joint collection: store study 2 as an artifact",
        run: save_study2,
    },
    Step {
        title: "Let's load it",
        run: query_study2,
    },
    Step {
        title: "We can now store the joint collection",
        run: joint_collection,
    },
    Step {
        title: "Auto-concatenate datasets: collection.load().tail()",
        run: load_collection,
    },
    Step {
        title: "Access the underlying artifacts",
        run: collection_artifacts,
    },
    Step {
        title: "Which collections have a train & test split? Record the split as a feature value",
        run: split_values,
    },
    Step {
        title: "Single-cell data: register AnnData files, their genes and cell types",
        run: single_cell,
    },
    Step {
        title: "Which datasets measured CD14? Which characterized cell line K562?",
        run: single_cell_questions,
    },
    Step {
        title: "Or look at their data lineage: collection.view_lineage()",
        run: collection_lineage,
    },
    Step {
        title: "The analysis read the model's output: transform.view_parents()",
        run: transform_parents,
    },
    Step {
        title: "Finish the analysis",
        run: finish_analysis,
    },
    Step {
        title: "Or look at the database",
        run: view_all,
    },
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
        title: "The instance and its default storage location",
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

const STUDY1_DESCRIPTION: &str = "Iris study 1 - after measuring sepal & petal metrics";
const STUDY2_DESCRIPTION: &str = "Iris study 2 - transformed";

/// The state the steps share.
struct Tutorial<'a> {
    ln: Instance,
    /// The tutorial's folder (the instance's storage root).
    dir: PathBuf,
    /// The uid of the study 1 artifact, once saved.
    study1: Option<String>,
    out: &'a mut Out,
}

impl Tutorial<'_> {
    /// Shows `$ lamella ARGS…` and runs that command exactly as the CLI runs it (on the
    /// current instance: the tutorial's).
    fn cmd(&mut self, args: &[&str]) -> Result<()> {
        let shown: Vec<String> = args.iter().map(|a| shell_word(a)).collect();
        self.out.line(format!("$ lamella {}", shown.join(" ")))?;
        let cli = Cli::try_parse_from(std::iter::once("lamella").chain(args.iter().copied()))
            .with_context(|| format!("the tutorial's command `lamella {}`", shown.join(" ")))?;
        crate::commands::run(cli.command, self.out)
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
        self.cmd(&["ulabel", "create", parent])?;
        let p = self.label(parent)?;
        self.out.blank()?;
        let names: Vec<&str> = children.iter().map(|c| c.name.as_str()).collect();
        self.rust(format!(
            "ln.ulabels().children(&{parent})?.set(&[{}])",
            names.join(", ")
        ))?;
        self.ln.ulabels().children(&p)?.set(children)?;
        let files: Vec<String> = self
            .graph_files(parent)
            .iter()
            .map(|f| f.display().to_string())
            .collect();
        let mut args = vec!["ulabel", "parents", parent, "--children"];
        for f in &files {
            args.extend(["--out", f.as_str()]);
        }
        self.cmd(&args)
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
        study1: None,
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
    t.cmd(&[
        "ulabel",
        "create",
        STUDY0,
        "--description",
        "My initial study",
    ])
}

const RAW_IMAGES: &str = "iris_studies/study0_raw_images";
const STUDY0: &str = "Study 0: initial plant gathering";
const IRIS_COLLECTION: &str = "Iris collection";

/// The earlier tutorial ("Tutorial: Artifacts"), stood in for by generated files: three
/// folders of raw images and the "Iris collection" growing by one folder per version.
fn earlier_tutorial(t: &mut Tutorial<'_>) -> Result<()> {
    t.out.line(
        "The previous tutorial registered folders of raw images and three versions of the \
         \"Iris collection\" (here: a few generated stand-ins, registered in place).",
    )?;
    track_cmd(
        t,
        &[
            "track",
            "Tutorial: Artifacts",
            "--type",
            "notebook",
            "--key",
            "tutorial",
            "--version",
            "0",
        ],
    )?;
    let descriptions = [
        "Iris study 0",
        "Now includes study1_raw_images",
        "Now includes study2_raw_images",
    ];
    let mut keys: Vec<String> = Vec::new();
    for (study, description) in descriptions.iter().enumerate() {
        let key = format!("iris_studies/study{study}_raw_images");
        let folder = t.dir.join(&key);
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
        for i in 0..5 {
            let file = folder.join(format!("iris-{i:04}.jpg"));
            std::fs::write(&file, format!("raw image {i} of study {study}\n"))
                .with_context(|| format!("cannot write {}", file.display()))?;
        }
        let folder = folder.display().to_string();
        t.cmd(&["save", &folder])?;
        keys.push(key);
        let mut args = vec!["collection", "create", IRIS_COLLECTION];
        for k in &keys {
            args.extend(["--key", k.as_str()]);
        }
        args.extend(["--description", description]);
        if study == 0 {
            args.extend(["--version", "1"]);
        }
        t.cmd(&args)?;
    }
    t.cmd(&["finish"])?;
    t.ln.finish()?;
    Ok(())
}

fn label_raw_images(t: &mut Tutorial<'_>) -> Result<()> {
    t.cmd(&["annotate", "--key", RAW_IMAGES, "--label", STUDY0])?;
    t.cmd(&["describe", "--key", RAW_IMAGES])
}

fn label_raw_images_with_feature(t: &mut Tutorial<'_>) -> Result<()> {
    t.out.line(
        "It's good practice to associate labels with features, to later feed them into \
         learning algorithms with a defined dimension.",
    )?;
    t.cmd(&["feature", "create", "study_name", "--dtype", "cat"])?;
    t.cmd(&[
        "annotate",
        "--key",
        RAW_IMAGES,
        "--label",
        STUDY0,
        "--feature",
        "study_name",
    ])?;
    t.cmd(&["describe", "--key", RAW_IMAGES])
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
    t.cmd(&["feature", "create", "iris_species_name", "--dtype", "cat"])?;
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

const JOINT: &str = "Iris flower study 1 & 2 - transformed";

/// Runs `lamella track …` and makes the tutorial's own instance follow the run too (the
/// library calls of later steps save into it).
fn track_cmd(t: &mut Tutorial<'_>, args: &[&str]) -> Result<()> {
    t.cmd(args)?;
    let settings = lamella_core::Settings::load()?;
    if let Some(run) = settings.runs.get(t.ln.uid()) {
        t.ln.resume(run)?;
    }
    Ok(())
}

fn track_model(t: &mut Tutorial<'_>) -> Result<()> {
    t.out.line(
        "The model transforms the images into 4 high-level features; tracking it records which \
         code produced which data.",
    )?;
    track_cmd(
        t,
        &["track", "Petal & sepal regressor", "--type", "pipeline"],
    )?;
    t.out.blank()?;
    t.out.line(
        "Its input is version 1 of the \"Iris collection\": caching it downloads the images \
         and records the collection as the run's input.",
    )?;
    t.cmd(&["collection", "cache", IRIS_COLLECTION, "--version", "1"])
}

fn track_analysis(t: &mut Tutorial<'_>) -> Result<()> {
    t.out.line(
        "A couple of weeks later, we receive a follow-up study 2; we track a new analysis.",
    )?;
    track_cmd(
        t,
        &[
            "track",
            "Tutorial: Features & labels",
            "--type",
            "notebook",
            "--key",
            "tutorial2",
            "--version",
            "1",
        ],
    )
}

fn joint_collection(t: &mut Tutorial<'_>) -> Result<()> {
    let one = study1(t)?;
    let two =
        t.ln.artifacts()
            .filter("description", STUDY2_DESCRIPTION)
            .one()?;
    t.cmd(&[
        "collection",
        "create",
        JOINT,
        "--artifact",
        &one.uid,
        "--artifact",
        &two.uid,
    ])
}

fn load_collection(t: &mut Tutorial<'_>) -> Result<()> {
    t.out.line(
        "Because both datasets measured the same validated feature set, the collection \
         concatenates (150 rows of the real iris data):",
    )?;
    t.cmd(&["collection", "load", JOINT])
}

fn collection_artifacts(t: &mut Tutorial<'_>) -> Result<()> {
    t.cmd(&["collection", "describe", JOINT])
}

fn split_values(t: &mut Tutorial<'_>) -> Result<()> {
    let one = study1(t)?;
    let two =
        t.ln.artifacts()
            .filter("description", STUDY2_DESCRIPTION)
            .one()?;
    t.cmd(&["feature", "create", "split", "--dtype", "cat"])?;
    t.cmd(&["ulabel", "create", "train"])?;
    t.cmd(&["ulabel", "create", "test"])?;
    t.cmd(&["annotate", &one.uid, "--value", "split=train"])?;
    t.cmd(&["annotate", &two.uid, "--value", "split=test"])?;
    t.cmd(&[
        "annotate",
        "--collection",
        JOINT,
        "--value",
        "split=train",
        "--value",
        "split=test",
    ])?;
    t.cmd(&[
        "collection",
        "ls",
        "--filter",
        "split=train",
        "--filter",
        "split=test",
    ])?;
    t.cmd(&["ls", "--features", "split"])
}

/// `lamella lineage … --out graphs/STEM.{svg,mmd}` (plus OpenLineage JSON when asked).
fn lineage_files(t: &mut Tutorial<'_>, target: &[&str], stem: &str, json: bool) -> Result<()> {
    let mut files: Vec<String> = ["svg", "mmd"]
        .iter()
        .map(|e| {
            t.dir
                .join("graphs")
                .join(format!("{stem}.{e}"))
                .display()
                .to_string()
        })
        .collect();
    if json {
        files.push(
            t.dir
                .join("graphs")
                .join(format!("{stem}.openlineage.json"))
                .display()
                .to_string(),
        );
    }
    let mut args = vec!["lineage"];
    args.extend_from_slice(target);
    for f in &files {
        args.extend(["--out", f.as_str()]);
    }
    t.cmd(&args)?;
    t.cmd(&{
        let mut a = vec!["lineage"];
        a.extend_from_slice(target);
        a
    })
}

fn study1_lineage(t: &mut Tutorial<'_>) -> Result<()> {
    let uid = study1(t)?.uid;
    lineage_files(t, &[&uid], "study1-lineage", false)
}

fn regressor_parents(t: &mut Tutorial<'_>) -> Result<()> {
    lineage_files(
        t,
        &["--transform", "Petal & sepal regressor"],
        "regressor",
        false,
    )
}

fn transform_parents(t: &mut Tutorial<'_>) -> Result<()> {
    lineage_files(t, &["--transform", "tutorial2"], "transforms", false)
}

/// Two small single-cell datasets (AnnData): blood cells with their cell types, and
/// cultured cell lines; gene panels that overlap; counts made up but stable.
fn single_cell_files(dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let write = |name: &str,
                 column: &str,
                 labels: &[&str],
                 genes: &[&str],
                 marker: &dyn Fn(&str, usize) -> f64|
     -> Result<PathBuf> {
        let cells: Vec<String> = (0..labels.len())
            .map(|i| format!("{}_{i}", name.trim_end_matches(".h5ad")))
            .collect();
        let obs = RecordBatch::try_from_iter([
            (
                "obs_names",
                Arc::new(StringArray::from(cells.clone())) as ArrayRef,
            ),
            (
                column,
                Arc::new(
                    labels
                        .iter()
                        .copied()
                        .collect::<lamella_core::arrow::array::DictionaryArray<
                            lamella_core::arrow::datatypes::Int32Type,
                        >>(),
                ) as ArrayRef,
            ),
        ])?;
        let rows: Vec<Vec<(u32, f64)>> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                genes
                    .iter()
                    .enumerate()
                    .filter_map(|(g, gene)| {
                        let v = marker(l, i) * if *gene == "GAPDH" { 2.0 } else { 1.0 }
                            + if marker_of(l) == *gene { 7.0 } else { 0.0 };
                        (v > 0.0).then_some((g as u32, v))
                    })
                    .collect()
            })
            .collect();
        let genes: Vec<String> = genes.iter().map(|g| g.to_string()).collect();
        let path = dir.join(name);
        lamella_core::write_anndata(&path, &obs, &genes, &rows)?;
        Ok(path)
    };
    let pbmc = write(
        "pbmc.h5ad",
        "cell_type",
        &[
            "T cell", "T cell", "B cell", "monocyte", "T cell", "B cell", "monocyte", "T cell",
        ],
        &["CD3E", "CD14", "MS4A1", "LYZ", "GAPDH"],
        &|_, i| (i % 3) as f64,
    )?;
    let lines = write(
        "cell_lines.h5ad",
        "cell_line",
        &["K562", "K562", "HEK293", "K562", "HEK293", "HEK293"],
        &["HBG1", "TFRC", "GAPDH", "LIN28B"],
        &|_, i| (i % 2) as f64 + 1.0,
    )?;
    Ok((pbmc, lines))
}

/// The gene a made-up cell type or line expresses most.
fn marker_of(label: &str) -> &'static str {
    match label {
        "T cell" => "CD3E",
        "B cell" => "MS4A1",
        "monocyte" => "CD14",
        "K562" => "HBG1",
        _ => "LIN28B",
    }
}

fn single_cell(t: &mut Tutorial<'_>) -> Result<()> {
    t.out.line(
        "Single-cell data lives in AnnData files (.h5ad): a matrix X of cells × genes, cell \
         metadata (obs) and gene metadata (var).",
    )?;
    // Written inside the storage folder, where they are registered in place.
    let folder = t.dir.join("scrna");
    std::fs::create_dir_all(&folder)?;
    let (pbmc, lines) = single_cell_files(&folder)?;
    t.rust("lamella_core::write_anndata(…)   // two small files: scrna/pbmc.h5ad, scrna/cell_lines.h5ad")?;
    let types = t.dir.join("cell_types.txt");
    std::fs::write(&types, "T cell\nB cell\nmonocyte\n")?;
    let cell_lines = t.dir.join("cell_lines.txt");
    std::fs::write(&cell_lines, "K562\nHEK293\n")?;
    let (types, cell_lines) = (
        types.display().to_string(),
        cell_lines.display().to_string(),
    );
    let (pbmc, lines) = (pbmc.display().to_string(), lines.display().to_string());
    t.cmd(&["ulabel", "create", "is_cell_type"])?;
    t.cmd(&[
        "ulabel",
        "create",
        "--from-file",
        &types,
        "--parent",
        "is_cell_type",
    ])?;
    t.cmd(&[
        "feature",
        "create",
        "cell_type",
        "--dtype",
        "cat[ULabel[is_cell_type]]",
    ])?;
    t.cmd(&["ulabel", "create", "is_cell_line"])?;
    t.cmd(&[
        "ulabel",
        "create",
        "--from-file",
        &cell_lines,
        "--parent",
        "is_cell_line",
    ])?;
    t.cmd(&[
        "feature",
        "create",
        "cell_line",
        "--dtype",
        "cat[ULabel[is_cell_line]]",
    ])?;
    t.out
        .line("The genes (the var index) become features, one bulk call per panel:")?;
    t.cmd(&["feature", "from-file", &pbmc, "--var", "--save"])?;
    t.cmd(&["feature", "from-file", &lines, "--var", "--save"])?;
    t.out
        .line("Validate the cell types (obs) and the genes (var) in one report, then save:")?;
    t.cmd(&["validate", &pbmc])?;
    t.cmd(&["curate", &pbmc, "--key", "scrna/pbmc.h5ad"])?;
    t.cmd(&["curate", &lines, "--key", "scrna/cell_lines.h5ad"])
}

fn single_cell_questions(t: &mut Tutorial<'_>) -> Result<()> {
    t.cmd(&["ls", "--feature", "CD14"])?;
    t.cmd(&["ls", "--label", "K562", "--feature", "cell_line"])?;
    t.out
        .line("A collection of both concatenates along cells; its genes are compared first:")?;
    t.cmd(&[
        "collection",
        "create",
        "single-cell",
        "--key",
        "scrna/pbmc.h5ad",
        "--key",
        "scrna/cell_lines.h5ad",
    ])?;
    t.cmd(&["collection", "check", "single-cell"])?;
    t.out.line(
        "(`collection load single-cell --out all.h5ad` writes the concatenated AnnData, X \
         streamed; here its cells' metadata:)",
    )?;
    t.cmd(&["collection", "load", "single-cell", "--obs"])?;
    t.cmd(&["collection", "ls", "--feature", "CD14"])
}

fn collection_lineage(t: &mut Tutorial<'_>) -> Result<()> {
    lineage_files(t, &["--collection", JOINT], "collection-lineage", true)
}

fn finish_analysis(t: &mut Tutorial<'_>) -> Result<()> {
    t.cmd(&["finish"])?;
    t.ln.finish()?;
    Ok(())
}

fn study1_table(t: &mut Tutorial<'_>) -> Result<()> {
    t.out.line(
        "A mock ML model has transformed the images into 4 high-level features, in meters.",
    )?;
    t.rust("let df = iris_in_meter_study1();   // an arrow RecordBatch")?;
    print_head(&lamella_core::datasets::iris_in_meter_study1()?, 5, t.out)
}

fn features_from_table(t: &mut Tutorial<'_>) -> Result<()> {
    // Feature.from_df: one feature per column, one bulk save — from the table as a file.
    let path = t.dir.join("iris_studies").join("study1.parquet");
    lamella_core::write_parquet([lamella_core::datasets::iris_in_meter_study1()?], &path)?;
    let path = path.to_string_lossy().into_owned();
    t.cmd(&["feature", "from-file", &path, "--save"])
}

fn feature_units(t: &mut Tutorial<'_>) -> Result<()> {
    t.out.line(
        "Use the unit field of Feature: the four measurements are in m (SI unit for meters).",
    )?;
    for f in ["sepal_length", "sepal_width", "petal_length", "petal_width"] {
        t.cmd(&["feature", "update", f, "--unit", "m"])?;
    }
    Ok(())
}

fn study1(t: &Tutorial<'_>) -> Result<lamella_core::Artifact> {
    let Some(uid) = &t.study1 else {
        bail!("study 1 was not saved");
    };
    Ok(t.ln.artifacts().get(uid)?)
}

fn columns_feature_set(t: &mut Tutorial<'_>) -> Result<()> {
    let a = study1(t)?;
    t.rust("let set = ln.feature_sets().from_features(&new_features)?;")?;
    let names: Vec<String> = a_columns(&lamella_core::datasets::iris_in_meter_study1()?);
    let features = names
        .iter()
        .map(|n| t.ln.features().get_by_name(n))
        .collect::<lamella_core::Result<Vec<_>>>()?;
    let set = t.ln.feature_sets().from_features(&features)?;
    t.out.line(repr(&set.record)?)?;
    t.rust("ln.artifacts().add_feature_set(&artifact, \"columns\", &set)?;")?;
    t.ln.artifacts()
        .add_feature_set(&a, "columns", &set.record)?;
    Ok(())
}

fn a_columns(table: &RecordBatch) -> Vec<String> {
    table
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

fn show_features(t: &mut Tutorial<'_>) -> Result<()> {
    let a = study1(t)?;
    t.rust("ln.artifacts().features(&artifact)?.slots()?")?;
    let features = t.ln.artifacts().features(&a)?.slots()?;
    for line in lamella_core::FeaturesView(&features).to_string().lines() {
        t.out.line(line)?;
    }
    Ok(())
}

fn columns_members(t: &mut Tutorial<'_>) -> Result<()> {
    let a = study1(t)?;
    let features = t.ln.artifacts().features(&a)?.slots()?;
    let Some(columns) = features.get("columns") else {
        bail!("the columns slot is not linked");
    };
    let filter = format!("feature_sets__uid={}", columns.feature_set.uid);
    t.cmd(&["feature", "list", "--filter", &filter])
}

fn add_species_labels(t: &mut Tutorial<'_>) -> Result<()> {
    let a = study1(t)?;
    t.out.line(
        "species_labels = ln.ULabel.filter(parents__name=\"is_species\").all(), linked \
         through the feature iris_species_name:",
    )?;
    let species = t.ln.ulabels().filter("parents__name", "is_species").all()?;
    let mut args = vec!["annotate".to_string(), a.uid.clone()];
    for l in &species {
        args.extend(["--label".to_string(), l.name.clone()]);
    }
    args.extend(["--feature".to_string(), "iris_species_name".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    t.cmd(&args)
}

fn add_study_labels(t: &mut Tutorial<'_>) -> Result<()> {
    let a = study1(t)?;
    t.cmd(&[
        "annotate",
        &a.uid,
        "--label",
        "study0",
        "--feature",
        "study_name",
    ])
}

fn find_study1(t: &mut Tutorial<'_>) -> Result<()> {
    t.out.line(
        "Annotated artifacts can be found by what they measured and how they are labelled.",
    )?;
    t.cmd(&["ls", "--feature", "petal_width"])?;
    t.cmd(&["ls", "--label", "setosa", "--feature", "iris_species_name"])
}

fn save_study1(t: &mut Tutorial<'_>) -> Result<()> {
    t.rust(format!(
        "ln.artifacts().from_table(&df).description(\"{STUDY1_DESCRIPTION}\").save()"
    ))?;
    let saved =
        t.ln.artifacts()
            .from_table(&lamella_core::datasets::iris_in_meter_study1()?)
            .description(STUDY1_DESCRIPTION)
            .save()?;
    print_saved_artifact(&t.ln, &saved, None, t.out)?;
    t.study1 = Some(saved.record.uid);
    Ok(())
}

fn describe_study1(t: &mut Tutorial<'_>) -> Result<()> {
    let uid = study1(t)?.uid;
    t.cmd(&["describe", &uid])
}

fn save_study2(t: &mut Tutorial<'_>) -> Result<()> {
    t.out
        .line("Study 2 arrives already transformed; we store it as an artifact.")?;
    t.rust("let df = iris_in_meter_study2();")?;
    t.rust(format!(
        "ln.artifacts().from_table(&df).description(\"{STUDY2_DESCRIPTION}\").save()"
    ))?;
    let saved =
        t.ln.artifacts()
            .from_table(&lamella_core::datasets::iris_in_meter_study2()?)
            .description(STUDY2_DESCRIPTION)
            .save()?;
    print_saved_artifact(&t.ln, &saved, None, t.out)
}

fn query_study2(t: &mut Tutorial<'_>) -> Result<()> {
    t.rust(format!(
        "let artifact2 = ln.artifacts().filter(\"description\", \"{STUDY2_DESCRIPTION}\").one()?"
    ))?;
    let artifact2 =
        t.ln.artifacts()
            .filter("description", STUDY2_DESCRIPTION)
            .one()?;
    t.out.line(repr(&artifact2)?)?;
    t.cmd(&["load", &artifact2.uid])
}

fn view_some(t: &mut Tutorial<'_>) -> Result<()> {
    t.cmd(&[
        "view",
        "--registry",
        "Feature",
        "--registry",
        "FeatureSet",
        "--registry",
        "ULabel",
    ])
}

fn create_project1(t: &mut Tutorial<'_>) -> Result<()> {
    t.cmd(&["ulabel", "create", "project1"])
}

fn create_project1_again(t: &mut Tutorial<'_>) -> Result<()> {
    t.out.line(
        "Instead of creating a new record, Lamella loads and returns the existing one (same uid).",
    )?;
    t.cmd(&["ulabel", "create", "project1"])
}

fn create_project_1(t: &mut Tutorial<'_>) -> Result<()> {
    t.out.line(
        "Without an exact match, Lamella warns about potential duplicates when creating a record.",
    )?;
    t.cmd(&["ulabel", "create", "project 1"])
}

fn query_project1(t: &mut Tutorial<'_>) -> Result<()> {
    t.cmd(&[
        "ulabel",
        "list",
        "--filter",
        "name=project1",
        "--limit",
        "1",
    ])
}

fn rename_project1(t: &mut Tutorial<'_>) -> Result<()> {
    t.cmd(&["ulabel", "update", "project1", "--name", "project1a"])
}

fn delete_project1a(t: &mut Tutorial<'_>) -> Result<()> {
    t.cmd(&["ulabel", "delete", "project1a"])
}

fn default_storage(t: &mut Tutorial<'_>) -> Result<()> {
    t.cmd(&["info"])
}

fn all_storages(t: &mut Tutorial<'_>) -> Result<()> {
    t.cmd(&["view", "--registry", "Storage"])
}

fn view_all(t: &mut Tutorial<'_>) -> Result<()> {
    t.cmd(&["view"])
}
