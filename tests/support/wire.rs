//! A counting TCP relay for browser tests: the browser talks to the relay,
//! the relay to the server, and every byte the server sends back is
//! counted. That is what a first visit costs on the wire, whoever fetches
//! it: the page, MapLibre's worker (whose tile requests DevTools' page log
//! does not see), fonts, tiles and API answers alike.
//!
//! [`CountingRelay::cut`] takes the network away: open connections are
//! closed and new ones refused, as when a phone loses its signal, until
//! [`CountingRelay::restore`].

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The relay; it runs until the test process ends.
pub struct CountingRelay {
    addr: SocketAddr,
    to_client: Arc<AtomicU64>,
    connections: Arc<AtomicU64>,
    /// Set by [`CountingRelay::cut`]: no connection gets through.
    down: Arc<AtomicBool>,
    /// The browser's side of every connection relayed, to close at a cut.
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl CountingRelay {
    /// Listen on a free loopback port and relay every connection to `upstream`.
    pub fn start(upstream: SocketAddr) -> CountingRelay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        let addr = listener.local_addr().expect("a bound address");
        let to_client = Arc::new(AtomicU64::new(0));
        let connections = Arc::new(AtomicU64::new(0));
        let (counted, opened) = (to_client.clone(), connections.clone());
        let down = Arc::new(AtomicBool::new(false));
        let open = Arc::new(Mutex::new(Vec::new()));
        let (is_down, streams) = (down.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if is_down.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                if let Ok(copy) = client.try_clone() {
                    streams.lock().expect("the relay's list").push(copy);
                }
                opened.fetch_add(1, Ordering::Relaxed);
                let (client_r, server_w) = (client.try_clone(), server.try_clone());
                let (Ok(client_r), Ok(server_w)) = (client_r, server_w) else {
                    continue;
                };
                std::thread::spawn(move || pipe(client_r, server_w, None));
                let counted = counted.clone();
                std::thread::spawn(move || pipe(server, client, Some(&counted)));
            }
        });
        CountingRelay {
            addr,
            to_client,
            connections,
            down,
            open,
        }
    }

    /// Give the network back after [`CountingRelay::cut`]: new connections
    /// get through again.
    #[allow(dead_code)]
    pub fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }

    /// Take the network away: every open connection is closed and every new
    /// one refused until [`CountingRelay::restore`].
    #[allow(dead_code)]
    pub fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        for stream in self.open.lock().expect("the relay's list").drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// `http://127.0.0.1:PORT` of the relay.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Bytes the server has sent to the browser so far, headers included.
    pub fn bytes_to_client(&self) -> u64 {
        self.to_client.load(Ordering::Relaxed)
    }

    /// Connections relayed so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }
}

/// Copy `from` into `to` until either closes, adding what passes to `count`.
fn pipe(mut from: TcpStream, mut to: TcpStream, count: Option<&AtomicU64>) {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if let Some(count) = count {
                    count.fetch_add(n as u64, Ordering::Relaxed);
                }
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
