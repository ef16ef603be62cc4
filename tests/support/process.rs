//! A `wangge serve` process, as a user starts it: the real binary on a free
//! port, spoken to over plain HTTP/1.1 with a bearer token of the admin
//! (issued by `wangge user token`, as an operator would). Killed when
//! dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// A running `wangge serve`, killed when dropped.
pub struct Process {
    child: Child,
    /// Where it listens, and the token requests carry.
    pub addr: Endpoint,
    /// The first admin's one-time password, when this start created it.
    pub first_password: Option<String>,
}

/// A server's address and the admin token to call it with.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// A bearer token of the admin.
    pub token: String,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.addr)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `wangge --database DATABASE serve --listen 127.0.0.1:0 EXTRA…` and
/// wait until it says where it listens.
pub fn start(database: &str, extra: &[&str]) -> Process {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(["--database", database, "serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the wangge binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut first_password = None;
    let addr = loop {
        let line = lines
            .next()
            .expect("wangge prints where it listens")
            .expect("stdout reads");
        if let Some(rest) =
            line.strip_prefix("first start: log in as \"admin\" with the one-time password ")
        {
            first_password = Some(rest.trim().to_owned());
            continue;
        }
        if let Some(addr) = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
        {
            break addr.to_owned();
        }
    };
    let token = admin_token(database);
    Process {
        child,
        addr: Endpoint { addr, token },
        first_password,
    }
}

/// A token of the admin, from `wangge user token admin`.
fn admin_token(database: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args([
            "--database",
            database,
            "user",
            "token",
            "admin",
            "--days",
            "1",
            "--label",
            "tests",
        ])
        .output()
        .expect("wangge user token runs");
    assert!(
        out.status.success(),
        "wangge user token: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("a token is text")
        .trim()
        .to_owned()
}

/// Send one request (`Connection: close`); answers the status and the body
/// as JSON (`Null` when it is not JSON).
pub fn request(
    at: &Endpoint,
    method: &str,
    path: &str,
    body: Option<(&str, &str)>,
) -> (u16, Value) {
    let addr = &at.addr;
    let mut stream = TcpStream::connect(addr).expect("the server accepts connections");
    let (content_type, payload) = body.unwrap_or(("text/plain", ""));
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Authorization: Bearer {}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{payload}",
        at.token,
        payload.len()
    )
    .expect("request sent");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("response read");
    let text = String::from_utf8(response).expect("UTF-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("headers end");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// GET a path that must answer 200, as JSON.
pub fn get_json(at: &Endpoint, path: &str) -> Value {
    let (status, body) = request(at, "GET", path, None);
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}
