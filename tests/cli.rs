//! Black-box tests of the `sajin` binary: the account commands and the sample config, run the
//! way scripts run them, including beside a live server on the same data directory, and the
//! server's notifications to systemd.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

const SAJIN: &str = env!("CARGO_BIN_EXE_sajin");

/// Runs `sajin ARGS --data-dir DIR` with no config file and no `SAJIN_*` variables.
fn sajin(data_dir: &Path, args: &[&str]) -> Output {
    command(data_dir)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn command(data_dir: &Path) -> Command {
    let mut command = Command::new(SAJIN);
    command
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--config")
        .arg(data_dir.join("none.toml"))
        .env_clear()
        .stdin(Stdio::null());
    std::fs::write(data_dir.join("none.toml"), "").expect("an empty config file");
    command
}

fn stdout_of(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}, stderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

/// A server started as the binary on a free loopback port; killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(data_dir: &Path) -> Server {
        let mut child = command(data_dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        // Keeps reading after the port line, so the server never writes into a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(port) = line.split("port=").nth(1) {
                    let _ = port_tx.send(port.trim().parse::<u16>().ok());
                }
            }
        });
        let port = port_rx
            .recv_timeout(Duration::from_secs(60))
            .ok()
            .flatten()
            .expect("the server logs its port");
        Server { child, port }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn upload_status(port: u16, key: &str) -> u16 {
    let png = {
        let mut bytes = Vec::new();
        image::RgbImage::from_pixel(4, 4, image::Rgb([1, 2, 3]))
            .write_to(
                &mut std::io::Cursor::new(&mut bytes),
                image::ImageFormat::Png,
            )
            .expect("a PNG");
        bytes
    };
    let form = reqwest::blocking::multipart::Form::new().part(
        "source",
        reqwest::blocking::multipart::Part::bytes(png).file_name("a.png"),
    );
    reqwest::blocking::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/1/upload"))
        .header("X-API-Key", key)
        .multipart(form)
        .timeout(Duration::from_secs(30))
        .send()
        .expect("an answer")
        .status()
        .as_u16()
}

#[test]
fn key_create_on_a_fresh_data_dir_prints_only_the_key_on_stdout() {
    let data = tempfile::tempdir().expect("tempdir");

    let output = sajin(data.path(), &["key", "create", "--user", "admin"]);

    let stdout = stdout_of(&output);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout:?}");
    assert!(lines[0].starts_with("chv_"), "{stdout:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("created the first account"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "colour codes off a terminal: {stderr:?}"
    );
}

#[test]
fn key_create_for_an_unknown_user_fails_and_prints_no_key() {
    let data = tempfile::tempdir().expect("tempdir");

    let output = sajin(data.path(), &["key", "create", "--user", "nobody"]);

    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "{:?}", output.stdout);
    assert!(String::from_utf8_lossy(&output.stderr).contains("nobody"));
}

#[test]
fn a_key_made_while_the_server_runs_works_at_once_and_leaves_its_uploads_alone() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path());
    let in_flight = data.path().join("tmp").join("upload-being-written");
    std::fs::write(&in_flight, b"partial").expect("a file in tmp/");

    let key = stdout_of(&sajin(data.path(), &["key", "create", "--user", "admin"]));

    assert!(
        in_flight.exists(),
        "the command cleared the live server's tmp/"
    );
    assert_eq!(upload_status(server.port, key.trim()), 200);
    assert_eq!(upload_status(server.port, "chv_x_wrong"), 401);
}

#[test]
fn user_add_and_user_passwd_print_a_new_password_each_time() {
    let data = tempfile::tempdir().expect("tempdir");

    let first = stdout_of(&sajin(data.path(), &["user", "add", "alice"]));
    let second = stdout_of(&sajin(data.path(), &["user", "passwd", "alice"]));

    for password in [&first, &second] {
        assert_eq!(password.trim().len(), 20, "{password:?}");
    }
    assert_ne!(first, second);
    let again = sajin(data.path(), &["user", "add", "alice"]);
    assert!(!again.status.success(), "a second alice was created");
    let unknown = sajin(data.path(), &["user", "passwd", "bob"]);
    assert!(!unknown.status.success());
    assert!(unknown.stdout.is_empty());
}

#[test]
fn config_example_prints_every_setting_as_a_commented_toml_file() {
    let data = tempfile::tempdir().expect("tempdir");

    let example = stdout_of(&sajin(data.path(), &["config", "example"]));

    let parsed: toml::Table = example.parse().expect("the example is TOML");
    for key in sajin::config::KEYS {
        let is_set = parsed.contains_key(*key);
        let is_commented = example.contains(&format!("# {key} = "));
        assert!(is_set || is_commented, "{key} is missing from the example");
        let env = format!("SAJIN_{}", key.to_ascii_uppercase());
        assert!(example.contains(&env), "{env} is not mentioned");
    }
}

#[test]
fn under_systemd_the_server_reports_ready_pings_the_watchdog_and_says_when_it_stops() {
    let data = tempfile::tempdir().expect("tempdir");
    let sockets = tempfile::tempdir().expect("tempdir");
    let path = sockets.path().join("notify");
    let socket = std::os::unix::net::UnixDatagram::bind(&path).expect("a notify socket");
    socket
        // A guard against a hang, not a speed check: a loaded machine can take long to start.
        .set_read_timeout(Some(Duration::from_secs(300)))
        .expect("a read timeout");
    let config = data.path().join("none.toml");
    std::fs::write(&config, "").expect("an empty config file");
    // systemd names the watched process in WATCHDOG_PID; a shell that execs the server keeps
    // its own pid, so it can say so before the server starts.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("WATCHDOG_PID=$$ exec \"$0\" \"$@\"")
        .arg(SAJIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(data.path())
        .env_clear()
        .env("NOTIFY_SOCKET", &path)
        .env("WATCHDOG_USEC", "200000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let mut buffer = [0u8; 256];
    let mut receive = || {
        let read = socket.recv(&mut buffer).expect("a notification");
        String::from_utf8_lossy(&buffer[..read]).into_owned()
    };

    let first = receive();
    let second = receive();
    let stop = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("kill runs");
    assert!(stop.success());
    // Watchdog pings may still arrive before the stop notice; the count bounds the wait.
    let is_stopping = (0..100).any(|_| receive().contains("STOPPING=1"));
    let exit = child.wait().expect("the server exits");

    assert_eq!(first.trim(), "READY=1");
    assert_eq!(second.trim(), "WATCHDOG=1");
    assert!(is_stopping, "no STOPPING=1 after SIGTERM");
    assert!(exit.success(), "{exit:?}");
}
