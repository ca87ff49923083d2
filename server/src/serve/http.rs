//! The connection layer: how the server defends itself against slow, numerous or oversized
//! clients, and how it stops.
//!
//! * The request head must arrive within `header_timeout` of its first byte (hyper's header-read
//!   timer); a keep-alive connection may wait `idle_timeout` for the next request's first byte
//!   (a new connection only `header_timeout`). A client that misses either is dropped.
//! * A request's body must arrive, and its answer be ready, within `body_timeout` of its head
//!   (tower-http's timeout, 408). Declared bodies over a route's limit answer 413 before any byte
//!   of them is read (`routes.rs`).
//! * At most `max_connections` connections are open; one more is answered 503 with `Retry-After`
//!   and closed. At most `max_in_flight` requests are handled at once (tower's global concurrency
//!   limit with load shedding); one more is answered 503 with `Retry-After`. Memory is therefore
//!   bounded by the caps times the body limits, whatever the clients do.
//! * On SIGTERM/SIGINT the listener closes, idle connections close, requests in flight finish,
//!   and the process exits within `shutdown_timeout` even if some client never finishes.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::{BoxError, ServiceBuilder};
use tower_http::timeout::TimeoutLayer;

use super::error::ApiError;

/// The limits of the connection layer; each has an environment variable (`config.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Time for a request head, from its first byte (and for a new connection's first byte).
    pub header_timeout: Duration,
    /// Time for a request's body and its answer, from the end of its head.
    pub body_timeout: Duration,
    /// Time a keep-alive connection may wait for the next request.
    pub idle_timeout: Duration,
    /// Open connections at most.
    pub max_connections: usize,
    /// Requests handled at once at most.
    pub max_in_flight: usize,
    /// Time the server gives requests in flight once asked to stop.
    pub shutdown_timeout: Duration,
}

impl Default for HttpLimits {
    /// Sized for the 2-core machine the server is measured on: the connection cap stays far
    /// below the usual 1,024 file descriptors a process may open, and 64 requests in flight keep
    /// the database pool busy without letting buffered bodies grow past 64 MiB.
    fn default() -> Self {
        HttpLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 512,
            max_in_flight: 64,
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

/// Tells a client to come back in a second.
const RETRY_AFTER_SECS: &str = "1";

/// The answer to a connection over the cap, written without reading the request.
const TOO_MANY_CONNECTIONS: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: 35\r\n\r\n\
{\"detail\":\"Too many connections\"}\n";

/// Serves `app` on `listener` until `shutdown` completes, then drains within the deadline.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()>,
) {
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let service = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(overloaded))
        .load_shed()
        .layer(GlobalConcurrencyLimitLayer::with_semaphore(Arc::new(
            Semaphore::new(limits.max_in_flight),
        )))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.body_timeout,
        ))
        .service(app);
    let graceful = GracefulShutdown::new();
    // Cancelled at shutdown: connections waiting for a request head close at once.
    let stopping = CancellationToken::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            refuse(&stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let clock = ConnectionClock::new(limits, stopping.clone());
        let io = TokioIo::new(Tracked {
            inner: stream,
            clock: Arc::clone(&clock),
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(HeadTimer(clock))
            .header_read_timeout(limits.header_timeout)
            .keep_alive(true);
        let connection = builder.serve_connection(io, TowerToHyperService::new(service.clone()));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that misbehaves ends its own connection; nothing to report.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    stopping.cancel();
    let open = graceful.count();
    tracing::info!(
        open,
        deadline_secs = limits.shutdown_timeout.as_secs(),
        "stopped accepting; finishing requests in flight"
    );
    let started = Instant::now();
    if tokio::time::timeout(limits.shutdown_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            deadline_secs = limits.shutdown_timeout.as_secs(),
            "connections still open at the shutdown deadline are closed"
        );
    } else {
        tracing::info!(
            millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "every connection finished"
        );
    }
}

/// 503 with `Retry-After` for a request over the in-flight cap.
async fn overloaded(error: BoxError) -> Response {
    if !error.is::<tower::load_shed::error::Overloaded>() {
        return ApiError::internal("request layer failed").into_response();
    }
    let mut response = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "The server is busy; retry shortly",
    )
    .into_response();
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from_static(RETRY_AFTER_SECS),
    );
    response
}

/// Answers a connection over the cap with 503 and closes it. The write is one non-blocking
/// attempt into an empty socket buffer: it never waits for the client.
fn refuse(stream: &TcpStream) {
    let _ = stream.try_write(TOO_MANY_CONNECTIONS);
}

/// A failed `accept` (out of file descriptors, a connection reset before it was taken) must not
/// stop the server; a resource shortage gets a short pause so the loop does not spin.
async fn accept_failed(error: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionReset, Interrupted};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionReset | Interrupted
    ) {
        return;
    }
    tracing::warn!(error = %error, "accept failed; pausing 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// When a connection's current wait began and when its bytes arrived: shared by its stream
/// (which records reads and writes) and its timer (which hyper asks for the head deadline).
struct ConnectionClock {
    limits: HttpLimits,
    stopping: CancellationToken,
    state: Mutex<ClockState>,
}

#[derive(Clone, Copy)]
struct ClockState {
    /// When hyper began waiting for the current request head.
    armed_at: Instant,
    /// The first byte read since then.
    first_byte_at: Option<Instant>,
    /// Whether an answer was written on this connection: later waits are keep-alive waits.
    answered: bool,
}

impl ConnectionClock {
    fn new(limits: HttpLimits, stopping: CancellationToken) -> Arc<ConnectionClock> {
        Arc::new(ConnectionClock {
            limits,
            stopping,
            state: Mutex::new(ClockState {
                armed_at: Instant::now(),
                first_byte_at: None,
                answered: false,
            }),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut ClockState) -> T) -> T {
        let mut state = match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut state)
    }

    /// hyper's header-read deadline, moved: `header_timeout` after the head's first byte, or,
    /// while no byte has come, `idle_timeout` after the last answer (`header_timeout` on a new
    /// connection).
    fn deadline(&self) -> Instant {
        let limits = self.limits;
        self.with(|s| match s.first_byte_at {
            Some(first) => first + limits.header_timeout,
            None if s.answered => s.armed_at + limits.idle_timeout,
            None => s.armed_at + limits.header_timeout,
        })
    }
}

/// The connection's timer for hyper. hyper arms it when it starts waiting for a request head,
/// which on a keep-alive connection is right after an answer, so the wait for the next request
/// would otherwise count against the head's time.
#[derive(Clone)]
struct HeadTimer(Arc<ConnectionClock>);

impl hyper::rt::Timer for HeadTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(PlainSleep(Box::pin(tokio::time::sleep(duration))))
    }

    fn sleep_until(&self, _deadline: std::time::Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        // hyper asks only for the header-read deadline (now + header_timeout); the clock knows
        // the better one.
        let clock = &self.0;
        clock.with(|s| {
            s.armed_at = Instant::now();
            s.first_byte_at = None;
        });
        let deadline = clock.deadline();
        Box::pin(HeadSleep {
            clock: Arc::clone(clock),
            stop: Box::pin(clock.stopping.clone().cancelled_owned()),
            deadline,
            sleep: Box::pin(tokio::time::sleep_until(deadline)),
        })
    }

    fn now(&self) -> std::time::Instant {
        Instant::now().into_std()
    }
}

struct PlainSleep(Pin<Box<tokio::time::Sleep>>);

impl Future for PlainSleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

impl hyper::rt::Sleep for PlainSleep {}

/// Sleeps until the clock's deadline, which moves when the head's first byte arrives. hyper
/// polls it each time the connection wakes without a complete head, so a new byte is seen at once.
/// At shutdown it ends at once: a request not yet begun is not waited for.
struct HeadSleep {
    clock: Arc<ConnectionClock>,
    stop: Pin<Box<WaitForCancellationFutureOwned>>,
    deadline: Instant,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl Future for HeadSleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.clock.stopping.is_cancelled() || self.stop.as_mut().poll(cx).is_ready() {
            return Poll::Ready(());
        }
        let deadline = self.clock.deadline();
        if deadline != self.deadline {
            self.deadline = deadline;
            self.sleep.as_mut().reset(deadline);
        }
        self.sleep.as_mut().poll(cx)
    }
}

impl hyper::rt::Sleep for HeadSleep {}

/// A TCP stream that tells its clock when bytes arrive and when an answer leaves.
struct Tracked {
    inner: TcpStream,
    clock: Arc<ConnectionClock>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.clock.with(|s| {
                s.first_byte_at.get_or_insert_with(Instant::now);
            });
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.clock.with(|s| s.answered = true);
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.clock.with(|s| s.answered = true);
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
