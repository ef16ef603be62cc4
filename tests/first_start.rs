//! The README's first command, as a new user meets it: `wangge serve` on an
//! empty embedded store generates and imports the demo county, then the API
//! answers with the county's counts per level. A restart serves the same
//! grids from the file without generating them again.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// The running server, killed when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(database: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(["--database", database, "serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the wangge binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("wangge prints where it listens");
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    Server { child, addr }
}

/// GET a path and parse the JSON body (plain HTTP/1.1, `Connection: close`).
fn get_json(addr: &str, path: &str) -> Value {
    let mut stream = TcpStream::connect(addr).expect("the server accepts connections");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("request sent");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("response read");
    let text = String::from_utf8(response).expect("UTF-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("headers end");
    assert!(head.starts_with("HTTP/1.1 200"), "GET {path}: {head}");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

fn counts(addr: &str) -> Vec<usize> {
    (1..=5)
        .map(|level| {
            get_json(addr, &format!("/api/grids?level={level}"))["features"]
                .as_array()
                .expect("a FeatureCollection")
                .len()
        })
        .collect()
}

/// First start loads the demo county; the API then reports 18 / 142 / 267 /
/// 1,063 / 913 grids, locates a point in the county seat, and a restart keeps them.
#[test]
fn first_start_serves_the_demo_county() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("wangge.db").display());

    let server = start(&database);
    assert_eq!(counts(&server.addr), [18, 142, 267, 1_063, 913]);
    let located = get_json(&server.addr, "/api/locate?lon=106.14&lat=34.73");
    assert_eq!(
        located["l1"], "620521100",
        "the county centre lies in the county seat: {located}"
    );
    assert!(located["l4"].is_string(), "{located}");
    let health = get_json(&server.addr, "/healthz");
    assert_eq!(health["grids"], 2_403, "{health}");
    drop(server);

    let again = start(&database);
    assert_eq!(counts(&again.addr), [18, 142, 267, 1_063, 913]);
}
