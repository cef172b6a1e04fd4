//! `mpcw serve` as people start it: the flags typed first, and the refusal to expose
//! development login.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

/// `mpcw serve` with no `MPCW_*` variable from the caller's environment.
fn serve(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mpcw"));
    cmd.arg("serve").args(args);
    for (key, _) in std::env::vars() {
        if key.starts_with("MPCW_") {
            cmd.env_remove(key);
        }
    }
    // Compiled plugins are shared by the tests' servers rather than made again by each.
    cmd.env(
        "MPCW_PLUGIN_CACHE_DIR",
        concat!(env!("CARGO_TARGET_TMPDIR"), "/plugin-cache"),
    );
    cmd.envs(env.iter().copied());
    cmd
}

fn temp_dir(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("mpcw-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir.display().to_string()
}

/// Kills the server when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `cmd` and read its banner: the server, the port it got, and the banner's lines.
fn start(mut cmd: Command) -> (Running, u16, Vec<String>) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let server = Running(child);
    let banner: Vec<String> = stdout.lines().take(3).map(Result::unwrap).collect();
    let port = banner
        .first()
        .and_then(|line| line.split("http://").nth(1))
        .and_then(|rest| rest.strip_suffix("/v1"))
        .and_then(|addr| addr.rsplit(':').next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("unexpected banner {banner:?}"));
    (server, port, banner)
}

/// One HTTP/1.1 request on loopback; the whole answer.
fn request(port: u16, method: &str, path: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn serve_takes_listen_data_dir_and_database_url_flags() {
    let data_dir = temp_dir("flags");
    let database = format!("sqlite://{data_dir}/other.db?mode=rwc");
    let (server, port, banner) = start(serve(
        &[
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            &data_dir,
            "--database-url",
            &database,
        ],
        // The flags win over the variables.
        &[
            ("MPCW_LISTEN", "127.0.0.1:1"),
            ("MPCW_DATA_DIR", "/nonexistent"),
        ],
    ));
    assert!(banner[0].contains("http://127.0.0.1:"), "{banner:?}");
    assert!(banner[1].contains("other.db"), "{banner:?}");
    assert!(banner[2].contains("development login: on"), "{banner:?}");
    assert!(request(port, "GET", "/v1/health", "").starts_with("HTTP/1.1 200"));
    let login = request(port, "POST", "/v1/auth/dev", r#"{"subject":"alice"}"#);
    assert!(login.starts_with("HTTP/1.1 201"), "{login}");
    // The database is the one the flag named, in the data directory the flag named.
    assert!(std::path::Path::new(&data_dir).join("other.db").exists());
    assert!(std::path::Path::new(&data_dir).join("kek").exists());
    drop(server);
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[test]
fn development_login_on_a_public_address_refuses_to_start() {
    let data_dir = temp_dir("exposed");
    let out = serve(
        &["--listen", "0.0.0.0:0", "--data-dir", &data_dir],
        &[("MPCW_DEV_LOGIN", "true")],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("dev_login") && stderr.contains("not a loopback address"),
        "{stderr}"
    );
    // Refused before anything was made.
    assert!(!std::path::Path::new(&data_dir).join("kek").exists());
}

#[test]
fn development_login_is_off_by_default_on_a_public_address() {
    let data_dir = temp_dir("public");
    let (server, port, banner) = start(serve(
        &["--listen", "0.0.0.0:0", "--data-dir", &data_dir],
        &[],
    ));
    assert!(banner[2].contains("development login: off"), "{banner:?}");
    let login = request(port, "POST", "/v1/auth/dev", r#"{"subject":"alice"}"#);
    assert!(login.starts_with("HTTP/1.1 403"), "{login}");
    drop(server);
    let _ = std::fs::remove_dir_all(&data_dir);
}
