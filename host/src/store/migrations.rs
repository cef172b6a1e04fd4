//! The schema's migrations (`host/migrations/`), compiled into the binary.
//!
//! Each entry is what `sqlx::migrate!` would make of the file (version and description from its
//! name, checksum of its text), listed by hand so that sqlx's compile-time macros, and the
//! database drivers they build for the compiler, are not needed. A test checks that the list
//! and the directory agree.

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::SqlSafeStr;

/// `(file name, text)` of every migration, oldest first.
const FILES: &[(&str, &str)] = &[
    (
        "0001_init.sql",
        include_str!("../../migrations/0001_init.sql"),
    ),
    (
        "0002_drop_access_tokens.sql",
        include_str!("../../migrations/0002_drop_access_tokens.sql"),
    ),
    (
        "0003_bridge_callbacks.sql",
        include_str!("../../migrations/0003_bridge_callbacks.sql"),
    ),
    (
        "0004_runners.sql",
        include_str!("../../migrations/0004_runners.sql"),
    ),
    (
        "0005_connections.sql",
        include_str!("../../migrations/0005_connections.sql"),
    ),
    (
        "0006_recovery.sql",
        include_str!("../../migrations/0006_recovery.sql"),
    ),
];

/// The migrator for the embedded migrations.
pub(super) fn migrator() -> Migrator {
    Migrator::with_migrations(
        FILES
            .iter()
            .map(|(name, sql)| migration(name, sql))
            .collect(),
    )
}

/// `<version>_<description>.sql` as sqlx names it: the description's underscores are spaces.
fn migration(name: &str, sql: &'static str) -> Migration {
    let stem = name
        .strip_suffix(".sql")
        .expect("migration files end in .sql");
    let (version, description) = stem.split_once('_').expect("<version>_<description>.sql");
    let version = version.parse().expect("the version is a number");
    Migration::new(
        version,
        description.replace('_', " ").into(),
        MigrationType::Simple,
        sql.into_sql_str(),
        false,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_the_migrations_directory_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let embedded: Vec<&str> = FILES.iter().map(|(name, _)| *name).collect();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn versions_and_descriptions_follow_the_file_names() {
        let m = migrator();
        let got: Vec<(i64, &str)> = m.iter().map(|m| (m.version, &*m.description)).collect();
        assert_eq!(
            got,
            [
                (1, "init"),
                (2, "drop access tokens"),
                (3, "bridge callbacks"),
                (4, "runners"),
                (5, "connections"),
                (6, "recovery"),
            ]
        );
    }
}
