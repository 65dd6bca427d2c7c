//! The shape of the public API: handles an embedder can store and send across threads.

use lamella_core::{
    ArtifactDraft, Artifacts, CollectionDraft, Collections, Curator, FeatureSets, Features,
    Instance, Labels, Query, ULabels,
};

fn owned_and_sendable<T: Send + Sync + 'static>() {}

#[test]
fn handles_own_the_instance_and_cross_threads() {
    owned_and_sendable::<Instance>();
    owned_and_sendable::<Artifacts>();
    owned_and_sendable::<ArtifactDraft>();
    owned_and_sendable::<Collections>();
    owned_and_sendable::<CollectionDraft>();
    owned_and_sendable::<ULabels>();
    owned_and_sendable::<Features>();
    owned_and_sendable::<FeatureSets>();
    owned_and_sendable::<Labels>();
    owned_and_sendable::<Curator>();
    owned_and_sendable::<Query<lamella_core::Artifact>>();
    // A stream moves to the thread that reads it.
    fn sendable<T: Send + 'static>() {}
    sendable::<lamella_core::CollectionBatches>();
}

#[test]
fn a_query_is_built_on_one_thread_and_run_on_another() -> anyhow::Result<()> {
    let t = lamella_tests::TestInstance::new(lamella_tests::Db::Sqlite).expect("instance");
    t.ulabels()
        .create(lamella_core::ULabel::new("sent"))
        .save()?;
    let q = t.ulabels().filter("name", "sent");
    let n = std::thread::spawn(move || q.count())
        .join()
        .expect("thread")?;
    assert_eq!(n, 1);
    Ok(())
}
