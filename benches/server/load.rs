//! Load benchmark of `dev-health-license serve` over loopback HTTP/1.1 keep-alive connections:
//! webhook events/s with p50/p99 (SQLite, and PostgreSQL when `BENCH_POSTGRES_URL` names an empty
//! database), entitlements GETs/s, licenses signed/s.
//!
//! Bounded: a fixed number of requests per phase, each phase stopped after 60 s at most. Only
//! 127.0.0.1 is ever contacted. Run it with `make bench-server`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dev_health_entitlements::issue::{sign_raw_jwt, SigningKey};
use dev_health_entitlements::stripe::signature_header;
use serde_json::{json, Map};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SECRET: &str = "whsec_bench_secret";
const ADMIN: &str = "bench-admin-token-0123456789abcdef";
const ORGS: usize = 200;
const WEBHOOK_EVENTS: usize = 6000;
const GETS: usize = 40_000;
const LICENSES: usize = 3000;
const CONCURRENCY: usize = 32;
const PHASE_LIMIT: Duration = Duration::from_secs(60);

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

struct Server {
    child: Child,
    addr: String,
    _dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(database_url: &str, dir: PathBuf, session_public: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dev-health-license"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(&dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env(
            "LICENSE_SIGNING_KEY",
            "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=",
        )
        .env("LICENSE_KEY_ID", "bench-1")
        .env("STRIPE_WEBHOOK_SECRET", SECRET)
        .env("STRIPE_PRICE_TIERS", "price_team=team,price_ent=enterprise")
        .env("SESSION_PUBLIC_KEYS", format!("s1={session_public}"))
        .env("ADMIN_TOKEN", ADMIN)
        .env("DATABASE_MAX_CONNECTIONS", "16")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines.next().expect("server exited").unwrap();
        if let Some(a) = line.strip_prefix("listening on http://") {
            break a.trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        addr,
        _dir: dir,
    }
}

/// One request on a keep-alive connection; returns the status.
async fn request(
    conn: &mut TcpStream,
    buf: &mut Vec<u8>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> u16 {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: bench\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    conn.write_all(&out).await.unwrap();
    buf.clear();
    let mut chunk = [0u8; 8192];
    loop {
        let n = conn.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().unwrap())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = conn.read(&mut chunk).await.unwrap();
                assert!(n > 0, "connection closed");
                buf.extend_from_slice(&chunk[..n]);
            }
            return head[9..12].parse().unwrap();
        }
    }
}

/// CPU time the process has used (user + system), in ms, from /proc (clock ticks of 10 ms).
fn cpu_ms(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses): state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) * 10.0
}

struct Figures {
    count: usize,
    cpu_us: f64,
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Runs `n` requests built by `make(i)` over `concurrency` connections; every answer must be 2xx.
async fn phase<F>(pid: u32, addr: &str, n: usize, concurrency: usize, make: F) -> Figures
where
    F: Fn(usize) -> (String, String, Vec<(String, String)>, Vec<u8>) + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let cpu_before = cpu_ms(pid);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (make, next, addr) = (Arc::clone(&make), Arc::clone(&next), addr.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut conn = TcpStream::connect(&addr).await.unwrap();
            conn.set_nodelay(true).unwrap();
            let mut buf = Vec::with_capacity(16 * 1024);
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n || started.elapsed() > PHASE_LIMIT {
                    return latencies;
                }
                let (method, path, headers, body) = make(i);
                let headers: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let t = Instant::now();
                let status = request(&mut conn, &mut buf, &method, &path, &headers, &body).await;
                latencies.push(t.elapsed());
                assert!(
                    (200..300).contains(&status),
                    "{method} {path} answered {status}: {}",
                    String::from_utf8_lossy(&buf)
                );
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_ms(pid) - cpu_before;
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Figures {
        count: all.len(),
        cpu_us: cpu * 1000.0 / all.len().max(1) as f64,
        per_sec: all.len() as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    }
}

fn webhook_body(i: usize, t0: i64) -> String {
    // Per org, a sequence: created team, updated enterprise, updated team, ... (each a tier
    // change that signs a license and revokes the previous one: the heaviest kind of event).
    let org = i % ORGS;
    let n = i / ORGS;
    let price = if n % 2 == 0 {
        "price_team"
    } else {
        "price_ent"
    };
    let ty = if n == 0 {
        "customer.subscription.created"
    } else {
        "customer.subscription.updated"
    };
    json!({"id": format!("evt_b{i}"), "type": ty, "created": t0 + n as i64,
        "data": {"object": {"id": format!("sub_b{org}"), "object": "subscription",
            "customer": format!("cus_b{org}"), "status": "active",
            "current_period_end": t0 + 30 * 86_400, "metadata": {"org_id": format!("org_b{org}")},
            "items": {"data": [{"price": {"id": price}}]}}}})
    .to_string()
}

async fn run_backend(label: &str, database_url: &str, dir: PathBuf) {
    let session_key = SigningKey::generate();
    let server = start(database_url, dir, &session_key.public_key().to_base64());
    let addr = server.addr.clone();
    let pid = server.child.id();
    let auth = format!("Bearer {ADMIN}");

    // Setup: the orgs.
    let a = auth.clone();
    phase(pid, &addr, ORGS, 8, move |i| {
        (
            "POST".into(),
            "/api/v1/admin/orgs".into(),
            vec![
                ("Authorization".into(), a.clone()),
                ("Content-Type".into(), "application/json".into()),
            ],
            json!({"id": format!("org_b{i}"), "name": format!("Bench {i}")})
                .to_string()
                .into_bytes(),
        )
    })
    .await;

    let t0 = now() - 10_000;
    // Two bursts, 8 then 32 connections; the second continues each org's sequence.
    for (round, concurrency) in [(0, 8), (1, CONCURRENCY)] {
        let bodies: Arc<Vec<(String, String)>> = Arc::new(
            (0..WEBHOOK_EVENTS)
                .map(|i| {
                    let body = webhook_body(round * WEBHOOK_EVENTS + i, t0);
                    // Signed just before the burst: well inside the 300 s tolerance.
                    let header = signature_header(body.as_bytes(), SECRET, now());
                    (body, header)
                })
                .collect(),
        );
        let b = Arc::clone(&bodies);
        let hooks = phase(pid, &addr, WEBHOOK_EVENTS, concurrency, move |i| {
            let (body, header) = &b[i];
            (
                "POST".into(),
                "/api/v1/billing/webhooks/stripe".into(),
                vec![("Stripe-Signature".into(), header.clone())],
                body.clone().into_bytes(),
            )
        })
        .await;
        report(
            label,
            &format!("webhook events, {concurrency} connections"),
            &hooks,
        );
    }

    // Sessions: one viewer token per org, verified (EdDSA) on every request.
    let tokens: Arc<Vec<String>> = Arc::new(
        (0..ORGS)
            .map(|i| {
                let mut c = Map::new();
                c.insert("sub".into(), format!("u{i}").into());
                c.insert("email".into(), "u@example.com".into());
                c.insert("org_id".into(), format!("org_b{i}").into());
                c.insert("role".into(), "viewer".into());
                c.insert("exp".into(), (now() + 3600).into());
                format!("Bearer {}", sign_raw_jwt(c, &session_key, "s1").unwrap())
            })
            .collect(),
    );
    let t = Arc::clone(&tokens);
    let gets = phase(pid, &addr, GETS, CONCURRENCY, move |i| {
        let org = i % ORGS;
        (
            "GET".into(),
            format!("/api/v1/licensing/entitlements/org_b{org}"),
            vec![("Authorization".into(), t[org].clone())],
            Vec::new(),
        )
    })
    .await;
    report(
        label,
        &format!("entitlements GETs, {CONCURRENCY} connections"),
        &gets,
    );

    let a = auth.clone();
    let licenses = phase(pid, &addr, LICENSES, CONCURRENCY, move |i| {
        (
            "POST".into(),
            "/api/v1/admin/licenses".into(),
            vec![
                ("Authorization".into(), a.clone()),
                ("Content-Type".into(), "application/json".into()),
            ],
            json!({"org_id": format!("cust_{i}"), "tier": "enterprise", "days": 365})
                .to_string()
                .into_bytes(),
        )
    })
    .await;
    report(
        label,
        &format!("licenses signed, {CONCURRENCY} connections"),
        &licenses,
    );
}

fn report(backend: &str, what: &str, f: &Figures) {
    println!(
        "| {backend:<10} | {what:<36} | {:>6} | {:>9.0}/s | {:>7.2} ms | {:>7.2} ms | {:>7.0} µs |",
        f.count, f.per_sec, f.p50_ms, f.p99_ms, f.cpu_us
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "dev-health-license serve, loopback HTTP/1.1 keep-alive; webhook events each change a tier, \
         sign a license and revoke the previous one; GETs verify an EdDSA session JWT; {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("| backend    | what                                 | count  |   throughput |     p50    |     p99    | server CPU/req |");
    println!("|------------|--------------------------------------|--------|--------------|------------|------------|----------------|");
    let dir = std::env::temp_dir().join(format!("dhl-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/bench.db", dir.display());
    runtime.block_on(run_backend("sqlite", &url, dir.clone()));
    match std::env::var("BENCH_POSTGRES_URL") {
        Ok(url) => {
            let pgdir = dir.join("pg");
            std::fs::create_dir_all(&pgdir).unwrap();
            runtime.block_on(run_backend("postgres", &url, pgdir));
        }
        Err(_) => println!(
            "(PostgreSQL not measured: BENCH_POSTGRES_URL is not set; `make bench-server` sets it)"
        ),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
