//! An upgrade from the first schema: a database made from `tests/fixtures/schema-v1.sql` (the
//! first migration) and the rows in `v1-rows.sql`, with the files those rows name, is
//! migrated by the current server at start-up, which then serves the old uploads and takes
//! new ones.

use std::path::Path;

use sajin::domain::IdCodec;

use crate::server::{admin_key, assert_check_clean, client, fetch, png, upload, Server};

const SCHEMA_V1: &str = include_str!("../fixtures/schema-v1.sql");
const ROWS_V1: &str = include_str!("../fixtures/v1-rows.sql");
/// The salt and Chevereto's default padding the fixture's ids are encoded with.
const FIXTURE_SALT: &str = "fixture-salt-0123456789abcdefghij";
const ID_PADDING: u64 = 999;

/// The files the fixture's rows name, with their bytes.
fn fixture_files() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("images/2025/01/02/garden.png", png(40, 30, 1)),
        (
            "images/2025/01/02/garden.th.jpg",
            b"an old thumbnail".to_vec(),
        ),
        ("images/2025/01/02/cat.png", png(24, 24, 2)),
        (
            "images/2025/01/02/cat.th.jpg",
            b"another old thumbnail".to_vec(),
        ),
    ]
}

fn write_first_schema_data_dir(root: &Path) {
    std::fs::create_dir_all(root.join("images/2025/01/02")).expect("mkdir");
    let conn = rusqlite::Connection::open(root.join("sajin.db")).expect("a database file");
    conn.execute_batch(SCHEMA_V1).expect("the first schema");
    conn.execute_batch(ROWS_V1).expect("the fixture rows");
    for (path, bytes) in fixture_files() {
        std::fs::write(root.join(path), bytes).expect("a fixture file");
    }
}

fn schema_version(root: &Path) -> i64 {
    let conn = rusqlite::Connection::open(root.join("sajin.db")).expect("the database");
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
        .expect("a version")
}

#[test]
fn upgrade_a_first_schema_database_is_migrated_at_start_and_its_uploads_are_served() {
    let data = tempfile::tempdir().expect("tempdir");
    let root = data.path().join("data");
    write_first_schema_data_dir(&root);
    assert_eq!(schema_version(&root), 1);

    let server = Server::start(&root, &[]);

    let log = server.log.lock().expect("the log").join("\n");
    assert!(
        log.contains("migrated the database schema version=2"),
        "{log}"
    );
    assert!(!log.contains("created the first account"), "{log}");
    let http = client();
    for (path, bytes) in fixture_files() {
        assert!(
            fetch(&http, &server.url(&format!("/{path}"))) == bytes,
            "{path}"
        );
    }
    let codec = IdCodec::new(FIXTURE_SALT, ID_PADDING);
    let viewer = fetch(&http, &server.url(&format!("/image/{}", codec.encode(1))));
    let page = String::from_utf8(viewer).expect("an HTML page");
    for shown in ["Garden in winter", "Frost on the beds", "winter"] {
        assert!(page.contains(shown), "{shown:?} is not on the viewer page");
    }
    let key = admin_key(&root);
    let (name, bytes) = ("new.png", png(32, 32, 3));
    let answer = upload(&http, &server.url(""), &key, name, bytes.clone());
    let (status, body) = answer.expect("an answer");
    assert_eq!(status, 200, "{body}");
    let url = body["image"]["url"].as_str().expect("a URL");
    assert!(fetch(&http, url) == bytes);
    let report = assert_check_clean(&root);
    assert!(report.contains("3 rows checked"), "{report}");
    drop(server);
    assert!(schema_version(&root) >= 3);
}
