//! The server defends itself (issue 12): time limits on every read, caps on connections,
//! requests in flight and bodies, a shutdown deadline, and a start that refuses weak secrets.
//! Each test runs the real binary with short limits and plays the hostile client over loopback.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod server_support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use server_support::*;

/// A server on a fresh SQLite database with `extra` variables on top of the usual ones.
fn start(dir: &TempDir, extra: &[(&str, &str)]) -> Server {
    let mut env = base_env(&sqlite_url(&dir.0));
    for (k, v) in extra {
        env.retain(|(name, _)| name != k);
        env.push(((*k).to_owned(), (*v).to_owned()));
    }
    Server::start(&dir.0, env)
}

fn connect(addr: &str) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
}

/// Reads until the server closes the connection (or `timeout` passes): what it sent, and when
/// it closed (None if it did not).
fn read_until_closed(stream: &mut TcpStream, timeout: Duration) -> (Vec<u8>, Option<Instant>) {
    stream.set_read_timeout(Some(timeout)).unwrap();
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => return (out, Some(Instant::now())),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return (out, Some(Instant::now())),
            Err(_) => break,
        }
    }
    (out, None)
}

/// Reads one response with a `Content-Length` from a keep-alive connection: status and body.
fn read_response(stream: &mut TcpStream) -> (u16, String) {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).to_string();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            while raw.len() < end + 4 + length {
                let n = stream.read(&mut buf).unwrap();
                assert!(n > 0, "closed inside a body");
                raw.extend_from_slice(&buf[..n]);
            }
            let status = head[9..12].parse().unwrap();
            let body = String::from_utf8_lossy(&raw[end + 4..end + 4 + length]).to_string();
            return (status, body);
        }
        let n = stream.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "closed before a response: {:?}",
            String::from_utf8_lossy(&raw)
        );
        raw.extend_from_slice(&buf[..n]);
    }
}

fn status_of(raw: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(raw.get(..12)?).ok()?;
    text.strip_prefix("HTTP/1.1 ")?.parse().ok()
}

fn header_of<'a>(raw: &'a [u8], name: &str) -> Option<&'a str> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    std::str::from_utf8(&raw[..end])
        .ok()?
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn a_request_head_that_stalls_is_dropped_at_the_header_timeout() {
    let dir = TempDir::new("def-head");
    let server = start(&dir, &[("HTTP_HEADER_TIMEOUT_SECS", "1")]);
    let started = Instant::now();
    let mut stalled = connect(&server.addr);
    stalled.write_all(b"GET /heal").unwrap();
    let mut silent = connect(&server.addr);
    let (_, closed) = read_until_closed(&mut stalled, Duration::from_secs(20));
    let closed = closed.expect("the stalled head was never cut");
    assert!(closed - started >= Duration::from_millis(900));
    // A connection that never sends a byte gets no longer than a head.
    let (_, closed) = read_until_closed(&mut silent, Duration::from_secs(20));
    assert!(closed.is_some(), "the silent connection was never closed");
    assert_eq!(server.get("/healthz", None).status, 200);
}

#[test]
fn a_keep_alive_connection_waits_the_idle_limit_not_the_head_limit() {
    let dir = TempDir::new("def-idle");
    let server = start(
        &dir,
        &[
            ("HTTP_HEADER_TIMEOUT_SECS", "1"),
            ("HTTP_IDLE_TIMEOUT_SECS", "6"),
        ],
    );
    let mut conn = connect(&server.addr);
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr);
    conn.write_all(request.as_bytes()).unwrap();
    assert_eq!(read_response(&mut conn).0, 200);
    // Twice the head limit of quiet between two requests is within the idle limit: the server
    // does not close the connection meanwhile.
    let (_, closed) = read_until_closed(&mut conn, Duration::from_secs(2));
    assert!(
        closed.is_none(),
        "closed at the head limit, not the idle limit"
    );
    conn.write_all(request.as_bytes()).unwrap();
    assert_eq!(read_response(&mut conn).0, 200);
    let answered = Instant::now();
    let (_, closed) = read_until_closed(&mut conn, Duration::from_secs(30));
    let closed = closed.expect("the idle connection was never closed");
    assert!(
        closed - answered >= Duration::from_secs(5),
        "closed too early"
    );
    // Once the next request has begun, its head has only the head limit.
    let mut conn = connect(&server.addr);
    conn.write_all(request.as_bytes()).unwrap();
    assert_eq!(read_response(&mut conn).0, 200);
    conn.write_all(b"GET /hea").unwrap();
    let begun = Instant::now();
    let (_, closed) = read_until_closed(&mut conn, Duration::from_secs(30));
    let closed = closed.expect("the stalled second head was never cut");
    assert!(
        closed - begun < Duration::from_secs(5),
        "waited the idle limit"
    );
}

#[test]
fn a_body_that_trickles_is_cut_at_the_body_timeout() {
    let dir = TempDir::new("def-body");
    let server = start(&dir, &[("HTTP_BODY_TIMEOUT_SECS", "2")]);
    let mut conn = connect(&server.addr);
    let head = format!(
        "POST /api/v1/admin/orgs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: 400\r\n\r\n{{\"name\""
    );
    conn.write_all(head.as_bytes()).unwrap();
    conn.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let started = Instant::now();
    let mut raw = Vec::new();
    let mut buf = [0u8; 1024];
    // One byte every 300 ms: never idle long, never done.
    while started.elapsed() < Duration::from_secs(20) {
        let _ = conn.write_all(b" ");
        match conn.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                raw.extend_from_slice(&buf[..n]);
                if raw.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {}
            Err(_) => break,
        }
    }
    assert_eq!(
        status_of(&raw),
        Some(408),
        "{}",
        String::from_utf8_lossy(&raw)
    );
    assert!(started.elapsed() >= Duration::from_millis(1900));
    assert!(server.admin_get("/api/v1/admin/audit").json() == serde_json::json!([]));
}

#[test]
fn a_declared_body_over_the_limit_answers_413_before_it_is_sent() {
    let dir = TempDir::new("def-413");
    let server = start(&dir, &[]);
    for (path, limit) in [
        ("/api/v1/billing/webhooks/stripe", 1_048_576u64),
        ("/api/v1/admin/orgs", 65_536),
    ] {
        for declared in [10_000_000_000u64, limit + 1] {
            let mut conn = connect(&server.addr);
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\
                 Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n"
            );
            conn.write_all(head.as_bytes()).unwrap();
            // No byte of the body is sent: the answer must not wait for it.
            let (raw, _) = read_until_closed(&mut conn, Duration::from_secs(10));
            assert_eq!(status_of(&raw), Some(413), "{path} {declared}");
            let body = String::from_utf8_lossy(&raw);
            assert!(body.contains(&format!("over {limit} bytes")), "{body}");
        }
    }
    // At the limit it is read as usual.
    let body = vec![b' '; 65_536];
    let r = http(
        &server.addr,
        "POST",
        "/api/v1/admin/orgs",
        Some(ADMIN_TOKEN),
        Some(&body),
        &[],
    )
    .unwrap();
    assert_eq!(r.status, 422, "{}", r.text());
}

#[test]
fn connections_over_the_cap_get_503_with_retry_after_and_the_server_recovers() {
    let dir = TempDir::new("def-conns");
    let server = start(
        &dir,
        &[
            ("HTTP_MAX_CONNECTIONS", "8"),
            ("HTTP_HEADER_TIMEOUT_SECS", "30"),
        ],
    );
    let mut held: Vec<TcpStream> = Vec::new();
    // Fill the cap with clients that never finish a head; wait until the server holds them all.
    for _ in 0..8 {
        let mut c = connect(&server.addr);
        c.write_all(b"GET /").unwrap();
        held.push(c);
    }
    let mut refused = None;
    assert!(wait_until(Duration::from_secs(20), || {
        let mut c = connect(&server.addr);
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let (raw, _) = read_until_closed(&mut c, Duration::from_secs(5));
        if status_of(&raw) == Some(503) {
            refused = Some(raw);
            true
        } else {
            false
        }
    }));
    let raw = refused.unwrap();
    assert_eq!(header_of(&raw, "retry-after"), Some("1"));
    assert!(String::from_utf8_lossy(&raw).contains("Too many connections"));
    held.clear();
    assert!(wait_until(Duration::from_secs(20), || {
        http(&server.addr, "GET", "/healthz", None, None, &[])
            .map(|r| r.status == 200)
            .unwrap_or(false)
    }));
}

#[test]
fn requests_over_the_in_flight_cap_get_503_with_retry_after() {
    let dir = TempDir::new("def-inflight");
    let server = start(&dir, &[("HTTP_MAX_IN_FLIGHT", "1")]);
    // A request in a handler, waiting for the rest of its body, holds the one slot.
    let (first, rest) = ("{\"name\":", "\"busy\"}");
    let head = format!(
        "POST /api/v1/admin/orgs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        first.len() + rest.len()
    );
    let mut busy = hold_the_in_flight_slot(&server.addr, &head, first);
    let shed = http(
        &server.addr,
        "GET",
        "/.well-known/jwks.json",
        None,
        None,
        &[],
    )
    .unwrap();
    assert_eq!(shed.status, 503);
    assert_eq!(shed.header("retry-after"), Some("1"));
    assert!(shed.text().contains("busy"), "{}", shed.text());
    // The request in flight finishes normally, and then the slot is free again.
    busy.write_all(rest.as_bytes()).unwrap();
    let (raw, _) = read_until_closed(&mut busy, Duration::from_secs(20));
    assert_eq!(
        status_of(&raw),
        Some(201),
        "{}",
        String::from_utf8_lossy(&raw)
    );
    assert_eq!(server.get("/.well-known/jwks.json", None).status, 200);
}

/// 2,000 hostile clients at once: 1,700 sending part of a request line and 300 sending nearly
/// 1 MiB of a webhook body, all then stalling. The server stays within a fixed memory, keeps
/// answering (200, or 503 while it is full), and is itself again once the head limit passes.
#[test]
fn two_thousand_slow_clients_leave_memory_bounded_and_the_server_answering() {
    let dir = TempDir::new("def-flood");
    let server = start(&dir, &[("HTTP_HEADER_TIMEOUT_SECS", "5")]);
    let pid = server.pid();
    assert_eq!(server.get("/healthz", None).status, 200);
    let before = rss_kib(pid);
    let addr = server.addr.clone();
    let mut clients = Vec::new();
    for _ in 0..1_700 {
        if let Ok(mut c) = TcpStream::connect(&addr) {
            let _ = c.write_all(b"POST /api/v1/billing/webh");
            clients.push(c);
        }
    }
    // The body senders write from a few threads; a write the server does not read times out.
    let big = std::sync::Arc::new(vec![b'x'; 1_048_575 - 1]);
    let senders: Vec<_> = (0..4)
        .map(|_| {
            let addr = addr.clone();
            let big = std::sync::Arc::clone(&big);
            std::thread::spawn(move || {
                let mut held = Vec::new();
                for _ in 0..75 {
                    let Ok(mut c) = TcpStream::connect(&addr) else {
                        continue;
                    };
                    c.set_write_timeout(Some(Duration::from_millis(200)))
                        .unwrap();
                    let head = "POST /api/v1/billing/webhooks/stripe HTTP/1.1\r\nHost: x\r\n\
                                Stripe-Signature: t=1,v1=00\r\nContent-Length: 1048575\r\n\r\n";
                    let _ = c.write_all(head.as_bytes());
                    let _ = c.write_all(&big);
                    held.push(c);
                }
                held
            })
        })
        .collect();
    let mut peak = before;
    let mut answered_during_flood = 0;
    let flood = Instant::now();
    // Measured while the clients arrive and until every body sender has written what it could.
    while flood.elapsed() < Duration::from_secs(4) || !senders.iter().all(|t| t.is_finished()) {
        peak = peak.max(rss_kib(pid));
        // The server answers at once, even while full.
        let asked = Instant::now();
        let r = http(&addr, "GET", "/healthz", None, None, &[]);
        if let Ok(r) = r {
            assert!(r.status == 200 || r.status == 503, "{}", r.status);
            if r.status == 503 {
                assert_eq!(r.header("retry-after"), Some("1"));
            }
            assert!(asked.elapsed() < Duration::from_secs(10));
            answered_during_flood += 1;
        }
    }
    let mut held: Vec<TcpStream> = senders
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    held.append(&mut clients);
    peak = peak.max(rss_kib(pid));
    eprintln!(
        "RSS before {before} KiB, peak {peak} KiB with {} hostile connections; \
         /healthz answered {answered_during_flood} times during the flood",
        held.len()
    );
    assert!(
        held.len() >= 1_900,
        "only {} connections opened",
        held.len()
    );
    assert!(answered_during_flood > 0);
    // 64 requests in flight with 1 MiB bodies and 512 open heads fit in well under 256 MiB.
    assert!(
        peak < before + 256 * 1024,
        "RSS grew from {before} to {peak} KiB"
    );
    // The stalled clients are dropped at the head limit; then the server is fully itself.
    assert!(wait_until(Duration::from_secs(60), || {
        http(&addr, "GET", "/healthz", None, None, &[])
            .map(|r| r.status == 200)
            .unwrap_or(false)
    }));
    drop(held);
}

/// Sends `head` and `first` (part of a body) so that the request holds the server's only
/// in-flight slot, and returns its connection once a second request is shed. A probe can take
/// the slot first, and then the request itself is shed: it is sent again.
fn hold_the_in_flight_slot(addr: &str, head: &str, first: &str) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let mut conn = connect(addr);
        conn.write_all(head.as_bytes()).unwrap();
        conn.write_all(first.as_bytes()).unwrap();
        conn.set_nonblocking(true).unwrap();
        let mut byte = [0u8; 1];
        loop {
            match conn.read(&mut byte) {
                // Answered (shed) or closed: try again with a new request.
                Ok(_) => break,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => break,
            }
            if http(addr, "GET", "/healthz", None, None, &[])
                .map(|r| r.status == 503)
                .unwrap_or(false)
            {
                conn.set_nonblocking(false).unwrap();
                return conn;
            }
            if Instant::now() >= deadline {
                break;
            }
        }
    }
    panic!("no request held the in-flight slot");
}

#[test]
fn sigterm_finishes_requests_in_flight_and_exits_within_the_deadline() {
    let dir = TempDir::new("def-term");
    let mut server = start(
        &dir,
        &[
            ("SHUTDOWN_TIMEOUT_SECS", "20"),
            ("HTTP_HEADER_TIMEOUT_SECS", "60"),
            ("HTTP_IDLE_TIMEOUT_SECS", "60"),
            ("HTTP_MAX_IN_FLIGHT", "1"),
        ],
    );
    let addr = server.addr.clone();
    // An idle keep-alive connection, a client stuck in its head, and a request in flight.
    let mut idle = connect(&addr);
    idle.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .unwrap();
    assert_eq!(read_response(&mut idle).0, 200);
    let mut stuck = connect(&addr);
    stuck.write_all(b"GET /api/v1/licensing/rev").unwrap();
    let (first, rest) = ("{\"id\":\"org_term\",", "\"name\":\"T\"}");
    let head = format!(
        "POST /api/v1/admin/orgs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        first.len() + rest.len()
    );
    let mut in_flight = hold_the_in_flight_slot(&addr, &head, first);
    let signalled = Instant::now();
    server.terminate();
    // The listener closes: new connections are refused.
    assert!(wait_until(Duration::from_secs(20), || {
        TcpStream::connect(&addr).is_err()
    }));
    // The idle connection is closed at once.
    let (_, closed) = read_until_closed(&mut idle, Duration::from_secs(10));
    assert!(closed.is_some(), "the idle connection was kept open");
    // The request in flight is finished and answered, and what it did is kept.
    in_flight.write_all(rest.as_bytes()).unwrap();
    let (raw, _) = read_until_closed(&mut in_flight, Duration::from_secs(20));
    assert_eq!(
        status_of(&raw),
        Some(201),
        "{}",
        String::from_utf8_lossy(&raw)
    );
    let status = server
        .wait_exit(Duration::from_secs(40))
        .expect("the server did not exit");
    let took = signalled.elapsed();
    eprintln!("exited {took:?} after SIGTERM");
    assert!(status.success(), "{status:?}");
    // The stuck client does not hold the exit: a request not yet begun is not waited for.
    assert!(took < Duration::from_secs(10), "{took:?}");
    let (_, closed) = read_until_closed(&mut stuck, Duration::from_secs(1));
    assert!(closed.is_some(), "the stuck client was kept");
    let server = start(&dir, &[]);
    assert_eq!(server.admin_get("/api/v1/admin/orgs/org_term").status, 200);
}

#[test]
fn sigterm_with_a_request_that_never_finishes_exits_at_the_deadline() {
    let dir = TempDir::new("def-term-stuck");
    let mut server = start(
        &dir,
        &[
            ("SHUTDOWN_TIMEOUT_SECS", "2"),
            ("HTTP_BODY_TIMEOUT_SECS", "600"),
            ("HTTP_MAX_IN_FLIGHT", "1"),
        ],
    );
    let head = format!(
        "POST /api/v1/admin/orgs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    );
    let mut in_flight = hold_the_in_flight_slot(&server.addr, &head, "{");
    let signalled = Instant::now();
    server.terminate();
    let status = server
        .wait_exit(Duration::from_secs(30))
        .expect("the server did not exit");
    let took = signalled.elapsed();
    eprintln!("exited {took:?} after SIGTERM with a request stuck in flight");
    assert!(status.success(), "{status:?}");
    assert!(took >= Duration::from_millis(1900), "{took:?}");
    assert!(took < Duration::from_secs(15), "{took:?}");
    let (_, closed) = read_until_closed(&mut in_flight, Duration::from_secs(10));
    assert!(closed.is_some());
}

#[test]
fn a_short_admin_token_stops_the_start_without_showing_it() {
    let dir = TempDir::new("def-admin");
    let mut env = base_env(&sqlite_url(&dir.0));
    env.retain(|(k, _)| k != "ADMIN_TOKEN");
    env.push(("ADMIN_TOKEN".into(), "hunter2-but-longer-0123456789".into()));
    let log = match Server::try_start(&dir.0, env, "127.0.0.1:0") {
        Err(log) => log,
        Ok(_) => panic!("started with a 29-character admin token"),
    };
    assert!(log.contains("ADMIN_TOKEN is too short"), "{log}");
    assert!(log.contains("at least 32 characters"), "{log}");
    assert!(!log.contains("hunter2"), "{log}");
}

#[test]
fn a_webhook_secret_unlike_stripes_is_warned_about_without_showing_it() {
    let dir = TempDir::new("def-whsec");
    let server = start(
        &dir,
        &[(
            "STRIPE_WEBHOOK_SECRET",
            "whsec_fine0123456789abcdefghijkl,my-own-secret",
        )],
    );
    let logs = server.logs();
    assert!(
        logs.contains(
            "STRIPE_WEBHOOK_SECRET: secret number 2 does not look like one Stripe issues"
        ),
        "{logs}"
    );
    assert!(!logs.contains("secret number 1 "), "{logs}");
    assert!(!logs.contains("my-own-secret"), "{logs}");
    assert!(!logs.contains("whsec_fine"), "{logs}");
}

/// The public, read-only documents are readable from any origin; nothing else is.
#[test]
fn only_the_public_documents_are_readable_cross_origin() {
    let dir = TempDir::new("def-cors");
    let server = start(&dir, &[]);
    let origin = [("Origin", "https://viewer.example")];
    for path in ["/.well-known/jwks.json", "/api/v1/licensing/revocations"] {
        let r = http(&server.addr, "GET", path, None, None, &origin).unwrap();
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("access-control-allow-origin"), Some("*"), "{path}");
        assert_eq!(r.header("access-control-allow-credentials"), None, "{path}");
        assert_eq!(
            r.header("access-control-expose-headers"),
            Some("etag"),
            "{path}"
        );
        let preflight = [
            ("Origin", "https://viewer.example"),
            ("Access-Control-Request-Method", "GET"),
        ];
        let r = http(&server.addr, "OPTIONS", path, None, None, &preflight).unwrap();
        assert_eq!(r.status, 200, "{path}");
        let methods = r.header("access-control-allow-methods").unwrap_or("");
        assert!(
            methods.contains("GET") && !methods.contains("POST"),
            "{methods}"
        );
    }
    for (method, path) in [
        ("GET", "/healthz"),
        ("GET", "/api/v1/licensing/entitlements/org_x"),
        ("GET", "/api/v1/admin/orgs/org_x"),
        ("POST", "/api/v1/admin/licenses"),
        ("OPTIONS", "/api/v1/admin/licenses"),
    ] {
        let r = http(&server.addr, method, path, Some(ADMIN_TOKEN), None, &origin).unwrap();
        assert_eq!(
            r.header("access-control-allow-origin"),
            None,
            "{method} {path}"
        );
    }
}
