//! The HTTP server loop: accepting connections and serving the router on
//! them with the limits a public server needs, which `axum::serve` does not
//! set (it gives hyper no timer, so a client that never finishes its
//! request headers holds its connection forever).
//!
//! - **Header timeout**: a request's headers must arrive within
//!   [`ServeLimits::header_timeout`], on a new connection and between
//!   requests of a kept-alive one; a slow or silent client is cut off.
//! - **Body timeout**: once a request's headers are in, its body must keep
//!   coming: a gap of more than [`ServeLimits::body_timeout`] between two
//!   pieces ends the read, and the request is refused (400) without being
//!   handled (tower-http's `TimeoutBody`).
//! - **Connection cap**: at most [`ServeLimits::max_connections`] at once;
//!   past it a new connection is closed at once (the slots are for clients
//!   that finish their requests).
//! - **Graceful shutdown**: on the signal, stop accepting, let requests in
//!   flight finish, close idle connections.
//!
//! hyper-util's connection builder and graceful-shutdown watcher do the
//! work; the client's address is handed to the handlers as axum's
//! `ConnectInfo`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tower_http::timeout::TimeoutBody;

use crate::state::AppState;

/// The limits of [`serve_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// How long a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// The longest pause allowed while a request's body is read.
    pub body_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            header_timeout: Duration::from_secs(10),
            // A 128 MiB import on a slow county link still sends something
            // every second; thirty without a byte is a stalled client.
            body_timeout: Duration::from_secs(30),
            // Well inside a default 20,000-descriptor limit, with room for
            // the database pool and files.
            max_connections: 10_000,
        }
    }
}

/// Serve the API on a bound listener with [`ServeLimits::default`] until
/// `shutdown` completes, then stop accepting connections and let the
/// requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, state, shutdown, ServeLimits::default()).await
}

/// [`serve`] with these limits.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ServeLimits,
) -> std::io::Result<()> {
    let router: Router = super::router(state.clone());
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(limits.header_timeout))
        .keep_alive_timeout(limits.header_timeout);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of descriptors and the like: wait a little, go on.
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, max = limits.max_connections, "connection refused: at the cap");
            drop(stream);
            continue;
        };
        let router = router.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let header_timeout = limits.header_timeout;
        let body_timeout = limits.body_timeout;
        let closing = state.shutdown_begun();
        tokio::spawn(async move {
            // A client that connects and says nothing is cut off like one
            // that stops halfway through its headers (and at shutdown).
            let mut first = [0u8; 1];
            let spoke = tokio::select! {
                read = tokio::time::timeout(header_timeout, stream.peek(&mut first)) => {
                    matches!(read, Ok(Ok(n)) if n > 0)
                }
                () = closing => false,
            };
            if !spoke {
                return;
            }
            let service = hyper::service::service_fn(
                move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    let request = request
                        .map(|body| axum::body::Body::new(TimeoutBody::new(body_timeout, body)));
                    router.clone().oneshot(request)
                },
            );
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    // Event streams never end by themselves: tell them to.
    state.begin_shutdown();
    graceful.shutdown().await;
    Ok(())
}
