//! Links the `lamella` binary as a position-dependent executable on Linux (see
//! ARCHITECTURE.md, "Start-up"): its ~120,000 relative relocations are then resolved by the
//! linker instead of at every start.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    if os == "linux" && arch == "x86_64" {
        println!("cargo:rustc-link-arg-bin=lamella=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
