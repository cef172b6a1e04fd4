//! Accepting HTTP connections within limits: how many at once, how long a request's head may
//! take to arrive (which is also how long a kept-alive connection may sit idle), and a graceful
//! stop.
//!
//! A connection that trickles its headers, or opens and says nothing, is closed when the
//! header-read time is up; once `max_connections` are open, new ones wait in the kernel's
//! backlog until one closes, so the process never runs out of file descriptors.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_service::Service;

/// How long a stop waits for open requests to finish before it closes their connections.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Limits on connections.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// Connections open at once.
    pub max_connections: usize,
    /// Time a client has to send a request's head, and the longest a connection may be idle
    /// between requests.
    pub header_read_timeout: Duration,
}

/// Serve `router` on `listener` until `shutdown` completes, each request carrying its peer's
/// address (`ConnectInfo<SocketAddr>`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let max = limits.max_connections.clamp(1, fd_room());
    let slots = Arc::new(Semaphore::new(max));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // A connection that failed before it was accepted, or no descriptor left
                    // for a moment: go on after a pause rather than spin.
                    tracing::debug!(error = %e, "accepting a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let mut router = router.clone();
            async move { Ok::<_, Infallible>(router.call(request).await.unwrap_or_else(|e| match e {})) }
        });
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(peer = %peer, error = %e, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(STOP_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "closed connections still open {} s after the stop",
            STOP_GRACE.as_secs()
        );
    }
    Ok(())
}

/// How many connections the process's file-descriptor limit leaves room for, after raising the
/// soft limit to the hard one (as servers do: the soft default of 1024 is a relic of `select`).
#[cfg(unix)]
fn fd_room() -> usize {
    /// Descriptors kept for everything but connections: the database, plugins, logs, outbound
    /// HTTP.
    const RESERVED: u64 = 128;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read or write the struct passed by pointer.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return usize::MAX;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    if limit.rlim_cur == libc::RLIM_INFINITY {
        return usize::MAX;
    }
    usize::try_from(limit.rlim_cur.saturating_sub(RESERVED)).unwrap_or(usize::MAX)
}

/// Elsewhere the configured limit stands.
#[cfg(not(unix))]
fn fd_room() -> usize {
    usize::MAX
}
