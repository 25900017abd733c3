//! Upload storms cut short by SIGKILL: after every restart the data directory checks clean
//! and every upload that was answered 200 before the kill is served byte for byte.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::server::{
    admin_key, assert_check_clean, client, fetch, files_under, random_image, upload, Server,
};

/// Kill-and-restart rounds; each kills the server at another moment of a storm.
const ROUNDS: u64 = 6;
/// Client threads uploading at once.
const CLIENTS: u64 = 4;
/// Uploads one client sends at most in a round, so a round ends even if the kill never comes.
const UPLOADS_PER_CLIENT: usize = 300;

/// An upload the server answered 200: its answer and the bytes sent.
struct Acknowledged {
    image: Value,
    bytes: Vec<u8>,
}

/// What the client threads of one storm saw.
#[derive(Default)]
struct Storm {
    acknowledged: Mutex<Vec<Acknowledged>>,
    /// Answers other than 200 (the server must not refuse or fail these uploads).
    unexpected: Mutex<Vec<String>>,
    finished_clients: AtomicUsize,
}

impl Storm {
    fn acknowledged_count(&self) -> usize {
        self.acknowledged.lock().expect("the list").len()
    }
}

fn run_client(storm: Arc<Storm>, server_url: String, key: String, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let client = client();
    for _ in 0..UPLOADS_PER_CLIENT {
        let (name, bytes) = random_image(&mut rng);
        match upload(&client, &server_url, &key, &name, bytes.clone()) {
            Ok((200, body)) => {
                let image = body["image"].clone();
                let mut list = storm.acknowledged.lock().expect("the list");
                list.push(Acknowledged { image, bytes });
            }
            Ok((status, body)) => {
                let mut list = storm.unexpected.lock().expect("the list");
                list.push(format!("{status}: {body}"));
            }
            // The server is gone: this client's storm is over.
            Err(_) => break,
        }
    }
    storm.finished_clients.fetch_add(1, Ordering::SeqCst);
}

/// Runs a storm against `server` and SIGKILLs it once `kill_after` uploads were answered and
/// `delay` more has passed; returns what the clients saw.
fn storm_then_kill(
    server: Server,
    key: &str,
    round: u64,
    kill_after: usize,
    delay: Duration,
) -> Storm {
    let storm = Arc::new(Storm::default());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (storm, url, key) = (Arc::clone(&storm), server.url(""), key.to_string());
            std::thread::spawn(move || run_client(storm, url, key, round * 1000 + client))
        })
        .collect();
    while storm.acknowledged_count() < kill_after
        && storm.finished_clients.load(Ordering::SeqCst) < CLIENTS as usize
    {
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(delay);
    server.kill();
    for handle in clients {
        handle.join().expect("a client thread ends");
    }
    Arc::try_unwrap(storm).ok().expect("the clients have ended")
}

/// The number after `field` in the server's log lines so far, summed.
fn logged_count(server: &Server, field: &str) -> usize {
    let log = server.log.lock().expect("the log");
    log.iter()
        .filter_map(|line| line.split(field).nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse::<usize>().ok())
        .sum()
}

#[test]
fn crash_sigkill_during_an_upload_storm_loses_no_answered_upload_and_leaves_no_orphan() {
    let data = tempfile::tempdir().expect("tempdir");
    let root = data.path().join("data");
    let key = admin_key(&root);
    let mut server = Server::start(&root, &[]);
    let mut rng = StdRng::seed_from_u64(7);
    let mut answered: Vec<Acknowledged> = Vec::new();
    let http = client();
    let mut placed_removed = 0;

    for round in 0..ROUNDS {
        let kill_after = rng.gen_range(1..=3 + 3 * round as usize);
        let delay = Duration::from_micros(rng.gen_range(0..40_000));
        let storm = storm_then_kill(server, &key, round, kill_after, delay);
        let unexpected = storm.unexpected.into_inner().expect("the list");
        assert!(unexpected.is_empty(), "round {round}: {unexpected:#?}");
        let acknowledged = storm.acknowledged.into_inner().expect("the list");
        assert!(
            !acknowledged.is_empty(),
            "round {round}: no upload was answered"
        );
        answered.extend(acknowledged);

        server = Server::start(&root, &[]);
        placed_removed += logged_count(&server, "placed_files=");
        assert_eq!(
            files_under(&root.join("tmp")),
            Vec::<std::path::PathBuf>::new()
        );
        let report = assert_check_clean(&root);
        eprintln!("round {round}: killed after {kill_after} answers + {delay:?}: {report}");
        for upload in &answered {
            let url = upload.image["url"].as_str().expect("a URL");
            assert!(
                fetch(&http, &server.moved(url)) == upload.bytes,
                "round {round}: {url} is not the bytes that were sent"
            );
            let thumb = upload.image["thumb"]["url"].as_str().expect("a URL");
            fetch(&http, &server.moved(thumb));
        }
    }
    eprintln!(
        "{ROUNDS} rounds, {} answered uploads all served; start-up removed {placed_removed} \
         placed files of uncommitted uploads",
        answered.len()
    );
}
