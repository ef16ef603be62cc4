//! A `wangge serve` process, as a user starts it: the real binary on a free
//! port, spoken to over plain HTTP/1.1. Killed when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// A running `wangge serve`, killed when dropped.
pub struct Process {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
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
    Process { child, addr }
}

/// Send one request (`Connection: close`); answers the status and the body
/// as JSON (`Null` when it is not JSON).
pub fn request(addr: &str, method: &str, path: &str, body: Option<(&str, &str)>) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).expect("the server accepts connections");
    let (content_type, payload) = body.unwrap_or(("text/plain", ""));
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{payload}",
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
pub fn get_json(addr: &str, path: &str) -> Value {
    let (status, body) = request(addr, "GET", path, None);
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}
