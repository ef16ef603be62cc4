//! Slow and silent clients cannot take the server away from others: 5,000
//! connections that send half a request and stop are cut off once the
//! header timeout passes, while a normal client is answered within a
//! second all along; a body that stops coming is refused once the body
//! timeout passes; past the connection cap a new connection is closed at
//! once.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wangge::api::ServeLimits;
use wangge::state::AppState;
use wangge::store::sqlite::SqliteStore;

/// A server with these limits on a free port, in a runtime of its own.
fn start(limits: ServeLimits) -> (SocketAddr, tokio::runtime::Runtime, tempfile::TempDir) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let database = dir.path().join("wangge.sqlite");
    let addr = runtime.block_on(async move {
        let store = SqliteStore::open(database).await.expect("SQLite opens");
        let state = AppState::open(Arc::new(store)).await.expect("state opens");
        // A listen queue that holds all 5,000 at once: with the default
        // (1,024) the kernel leaves the overflow waiting for SYN-ACK
        // retries, and their clock would start seconds late.
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket
            .bind("127.0.0.1:0".parse().expect("an address"))
            .expect("a free port");
        let listener = socket.listen(8192).expect("listening");
        let addr = listener.local_addr().expect("an address");
        tokio::spawn(wangge::api::serve_with(
            listener,
            state,
            std::future::pending(),
            limits,
        ));
        addr
    });
    (addr, runtime, dir)
}

/// `GET /healthz` on a new connection: the status line, and how long the
/// whole answer took.
fn healthz(addr: SocketAddr) -> (String, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).expect("the server accepts");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a timeout");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("sent");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status = answer.lines().next().unwrap_or_default().to_owned();
    (status, started.elapsed())
}

/// Whether the server has closed this connection (a read sees the end, or
/// a reset) within `wait`.
fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).expect("a timeout");
    let mut buf = [0u8; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            // A 408 or other answer before the close is fine: read on.
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false;
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn five_thousand_slow_clients_are_cut_off_and_others_still_answered() {
    let header_timeout = Duration::from_secs(3);
    let (addr, _runtime, _dir) = start(ServeLimits {
        header_timeout,
        max_connections: 6_000,
        ..ServeLimits::default()
    });
    let opened = Instant::now();
    let mut slow: Vec<TcpStream> = (0..5_000)
        .map(|i| {
            let mut s = TcpStream::connect(addr).expect("the server accepts");
            // Half a request, then nothing; every tenth sends nothing at all.
            if i % 10 != 0 {
                s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                    .expect("sent");
            }
            s
        })
        .collect();
    // While they hang, others are answered, and fast.
    for _ in 0..5 {
        let (status, took) = healthz(addr);
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        assert!(took < Duration::from_secs(1), "answered in {took:?}");
    }
    // Once the timeout has passed, the server has closed every one of them.
    let deadline = opened + header_timeout + Duration::from_secs(5);
    let mut still_open = 0;
    for s in &mut slow {
        let wait = deadline.saturating_duration_since(Instant::now()) + Duration::from_millis(50);
        if !closed_within(s, wait) {
            still_open += 1;
        }
    }
    assert_eq!(
        still_open, 0,
        "slow connections left open after the timeout"
    );
    let (status, _) = healthz(addr);
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
}

#[test]
fn past_the_connection_cap_a_new_connection_is_closed_at_once() {
    let (addr, _runtime, _dir) = start(ServeLimits {
        header_timeout: Duration::from_secs(30),
        max_connections: 20,
        ..ServeLimits::default()
    });
    let held: Vec<TcpStream> = (0..20)
        .map(|_| TcpStream::connect(addr).expect("the server accepts"))
        .collect();
    // Give the server a moment to take them all in.
    std::thread::sleep(Duration::from_millis(300));
    let mut extra = TcpStream::connect(addr).expect("the kernel accepts");
    assert!(
        closed_within(&mut extra, Duration::from_secs(2)),
        "the 21st connection should be closed at once"
    );
    drop(held);
    // Once they are gone, the slots are free again.
    std::thread::sleep(Duration::from_millis(300));
    let (status, _) = healthz(addr);
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
}

#[test]
fn a_body_that_stops_coming_is_refused_after_the_body_timeout() {
    let body_timeout = Duration::from_secs(2);
    let (addr, _runtime, _dir) = start(ServeLimits {
        body_timeout,
        ..ServeLimits::default()
    });
    // The login reads its body before anything else: a thousand bytes
    // announced, ten sent, then silence.
    let mut stream = TcpStream::connect(addr).expect("the server accepts");
    stream
        .set_read_timeout(Some(body_timeout * 5))
        .expect("a timeout");
    stream
        .write_all(
            b"POST /api/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 1000\r\n\r\n{\"login\": ",
        )
        .expect("sent");
    let sent = Instant::now();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {
                panic!("no answer within {:?}", body_timeout * 5)
            }
            Err(_) => break,
        }
    }
    let took = sent.elapsed();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("within the designated timeout"),
        "the refusal says why: {answer}"
    );
    assert!(
        took >= body_timeout - Duration::from_millis(100) && took < body_timeout * 3,
        "refused after {took:?}, the timeout being {body_timeout:?}"
    );
    // Others are served as ever.
    let (status, _) = healthz(addr);
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
}
