//! Running the JavaScript tests (`node --test`) from Rust tests, against hosts the Rust side
//! starts.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Run `node --test <files>` in `package` with `env`, expecting `tests` tests to pass (none
/// failed or skipped); its report.
pub async fn node_test(
    package: &Path,
    files: &'static str,
    tests: usize,
    env: Vec<(&'static str, String)>,
) -> String {
    let dir = package.to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(["--test", files])
            .envs(env)
            .current_dir(dir)
            .output()
            .expect("node runs")
    })
    .await
    .expect("the node runner");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{report}");
    assert!(
        report.contains(&format!("# pass {tests}\n"))
            && report.contains("# fail 0")
            && report.contains("# skipped 0"),
        "{report}"
    );
    report
}
