// `sqlx::migrate!` embeds the migration folders, but on stable Rust cargo does not
// know it reads them: a new migration file would not rebuild the crate.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
