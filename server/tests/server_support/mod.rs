//! Shared by the `server_*` integration tests: runs the real `dev-health-license serve` binary,
//! talks plain HTTP/1.1 to it over loopback, signs sessions and Stripe webhooks with the core, and
//! starts private PostgreSQL clusters.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dev_health_entitlements::issue::{sign_raw_jwt, SigningKey};
use dev_health_entitlements::stripe::signature_header;
use serde_json::{json, Map, Value};

pub const WEBHOOK_SECRET: &str = "whsec_test_secret_for_the_server_tests";
pub const ADMIN_TOKEN: &str = "admin-token-for-the-server-tests-0123456789";
pub const PRICE_TEAM: &str = "price_team_monthly";
pub const PRICE_ENTERPRISE: &str = "price_enterprise_monthly";
/// The license signing seed (base64) and kid the tests configure.
pub const LICENSE_SEED: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
pub const LICENSE_KID: &str = "test-license-key-1";
/// The session signing seed; its public key is in SESSION_PUBLIC_KEYS as `sess1`.
pub const SESSION_SEED: &str = "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=";
pub const SESSION_KID: &str = "sess1";
/// A day in seconds.
pub const DAY: i64 = 86_400;

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "dhl-{prefix}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn session_key() -> SigningKey {
    SigningKey::parse(SESSION_SEED).unwrap()
}

pub fn license_key() -> SigningKey {
    SigningKey::parse(LICENSE_SEED).unwrap()
}

/// The environment of a fully configured server.
pub fn base_env(database_url: &str) -> Vec<(String, String)> {
    let session_public = session_key().public_key().to_base64();
    [
        ("DATABASE_URL", database_url.to_owned()),
        ("LICENSE_SIGNING_KEY", LICENSE_SEED.to_owned()),
        ("LICENSE_KEY_ID", LICENSE_KID.to_owned()),
        (
            "STRIPE_WEBHOOK_SECRET",
            format!("whsec_old_rotated_out,{WEBHOOK_SECRET}"),
        ),
        (
            "STRIPE_PRICE_TIERS",
            format!("{PRICE_TEAM}=team,{PRICE_ENTERPRISE}=enterprise"),
        ),
        (
            "SESSION_PUBLIC_KEYS",
            format!("{SESSION_KID}={session_public}"),
        ),
        ("ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
        ("RUST_LOG", "info".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The SQLite URL of a file in `dir`.
pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}/server.db", dir.display())
}

/// A running `dev-health-license serve`, killed when dropped.
pub struct Server {
    child: Option<Child>,
    pub addr: String,
    pub dir: PathBuf,
    pub env: Vec<(String, String)>,
}

impl Server {
    /// Starts the server in `dir` (its working directory) with exactly `env` (plus PATH).
    pub fn start(dir: &Path, env: Vec<(String, String)>) -> Server {
        Server::try_start(dir, env.clone(), "127.0.0.1:0").unwrap_or_else(|log| {
            panic!("the server did not start:\n{log}");
        })
    }

    /// Starts the server; `Err` carries its log when it exits before listening.
    pub fn try_start(
        dir: &Path,
        env: Vec<(String, String)>,
        listen: &str,
    ) -> Result<Server, String> {
        Server::launch(dir, env, listen).map_err(|(_, log)| log)
    }

    /// Runs a server that must refuse to start: how it exited, and its log.
    pub fn refused(dir: &Path, env: Vec<(String, String)>) -> (std::process::ExitStatus, String) {
        match Server::launch(dir, env, "127.0.0.1:0") {
            Ok(server) => panic!("the server started:\n{}", server.logs()),
            Err(refused) => refused,
        }
    }

    /// Starts the server; `Err` carries how it exited and its log when it exits before listening.
    fn launch(
        dir: &Path,
        env: Vec<(String, String)>,
        listen: &str,
    ) -> Result<Server, (std::process::ExitStatus, String)> {
        let log_path = dir.join(format!("server-{}.log", now_nanos()));
        let log = std::fs::File::create(&log_path).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_dev-health-license"))
            .args(["serve", "--listen", listen])
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(addr) = line.strip_prefix("listening on http://") {
                        break addr.trim().to_owned();
                    }
                }
                _ => {
                    let status = child.wait().unwrap();
                    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                    return Err((status, log));
                }
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Ok(Server {
            child: Some(child),
            addr,
            dir: dir.to_owned(),
            env,
        })
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap()
    }

    /// Sends SIGTERM (the way an orchestrator stops it).
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits up to `timeout` for the process to exit on its own.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let child = self.child.as_mut()?;
        let mut status = None;
        wait_until(timeout, || {
            status = child.try_wait().unwrap();
            status.is_some()
        });
        if status.is_some() {
            self.child = None;
        }
        status
    }

    /// SIGKILL, no shutdown.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The server's log (stderr) so far, all runs in this directory.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for entry in std::fs::read_dir(&self.dir).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with("server-") && name.ends_with(".log") {
                out.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
            }
        }
        out
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Resp {
        http(&self.addr, "GET", path, token, None, &[]).unwrap()
    }

    pub fn admin_get(&self, path: &str) -> Resp {
        self.get(path, Some(ADMIN_TOKEN))
    }

    pub fn send(&self, method: &str, path: &str, token: Option<&str>, body: &Value) -> Resp {
        let bytes = serde_json::to_vec(body).unwrap();
        http(&self.addr, method, path, token, Some(&bytes), &[]).unwrap()
    }

    pub fn admin(&self, method: &str, path: &str, body: &Value) -> Resp {
        self.send(method, path, Some(ADMIN_TOKEN), body)
    }

    /// Creates an org through the admin API.
    pub fn create_org(&self, id: &str, managed_by: &str) -> Value {
        let r = self.admin(
            "POST",
            "/api/v1/admin/orgs",
            &json!({"id": id, "name": format!("Org {id}"), "managed_by": managed_by}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()
    }

    /// Posts a webhook signed now with the test secret.
    pub fn webhook(&self, body: &str) -> Resp {
        post_webhook(&self.addr, body)
    }

    pub fn entitlements(&self, org: &str) -> Value {
        let r = self.admin_get(&format!("/api/v1/licensing/entitlements/{org}"));
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    }

    pub fn tier(&self, org: &str) -> String {
        self.entitlements(org)["tier"].as_str().unwrap().to_owned()
    }

    pub fn audit(&self, org: &str) -> Vec<Value> {
        let r = self.admin_get(&format!("/api/v1/admin/audit?org_id={org}&limit=1000"));
        assert_eq!(r.status, 200, "{}", r.text());
        r.json().as_array().unwrap().clone()
    }

    pub fn event_outcome(&self, id: &str) -> Option<String> {
        let r = self.admin_get(&format!("/api/v1/admin/stripe-events/{id}"));
        match r.status {
            200 => Some(r.json()["outcome"].as_str().unwrap_or("").to_owned()),
            404 => None,
            s => panic!("event lookup answered {s}: {}", r.text()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

pub fn post_webhook(addr: &str, body: &str) -> Resp {
    let header = signature_header(body.as_bytes(), WEBHOOK_SECRET, now());
    http(
        addr,
        "POST",
        "/api/v1/billing/webhooks/stripe",
        None,
        Some(body.as_bytes()),
        &[("Stripe-Signature", &header)],
    )
    .unwrap()
}

/// An HTTP response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request over a fresh loopback connection (`Connection: close`).
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&[u8]>,
    extra: &[(&str, &str)],
) -> std::io::Result<Resp> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(token) = bearer {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(body) = body {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if let Some(body) = body {
        // The server may answer (413) and close before reading all of a large body.
        let _ = stream.write_all(body);
    }
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no HTTP response ({} bytes)", raw.len())))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Ok(Resp {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 2 + size + 2..];
    }
}

// ---------------------------------------------------------------------------------------------
// Sessions

/// A session JWT signed with the test session key.
pub fn session(org: &str, role: &str, exp_in: i64, superuser: bool) -> String {
    session_with(&session_key(), SESSION_KID, org, role, exp_in, superuser)
}

pub fn session_with(
    key: &SigningKey,
    kid: &str,
    org: &str,
    role: &str,
    exp_in: i64,
    superuser: bool,
) -> String {
    let mut claims = Map::new();
    claims.insert("sub".into(), "user_1".into());
    claims.insert("email".into(), "user@example.com".into());
    claims.insert("org_id".into(), org.into());
    claims.insert("role".into(), role.into());
    claims.insert("iat".into(), now().into());
    claims.insert("exp".into(), (now() + exp_in).into());
    if superuser {
        claims.insert("is_superuser".into(), true.into());
    }
    sign_raw_jwt(claims, key, kid).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Stripe events

pub fn checkout_event(id: &str, created: i64, customer: &str, org: &str) -> String {
    json!({
        "id": id, "object": "event", "type": "checkout.session.completed", "created": created,
        "data": {"object": {"id": format!("cs_{id}"), "object": "checkout.session",
            "customer": customer, "client_reference_id": org, "subscription": "sub_x",
            "metadata": {"org_id": org}}}
    })
    .to_string()
}

/// A `customer.subscription.*` event.
#[allow(clippy::too_many_arguments)]
pub fn subscription_event(
    id: &str,
    event_type: &str,
    created: i64,
    subscription: &str,
    customer: &str,
    org: Option<&str>,
    status: &str,
    price: &str,
    period_end: i64,
) -> String {
    let metadata = match org {
        Some(org) => json!({"org_id": org}),
        None => json!({}),
    };
    json!({
        "id": id, "object": "event", "type": event_type, "created": created,
        "data": {"object": {"id": subscription, "object": "subscription", "customer": customer,
            "status": status, "current_period_end": period_end, "metadata": metadata,
            "items": {"object": "list", "data": [{"id": format!("si_{id}"), "price": {"id": price}}]}}}
    })
    .to_string()
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/// A private PostgreSQL cluster in a temp dir on a loopback port, stopped when dropped. As root
/// it runs as `nobody` (PostgreSQL refuses to run as root).
pub struct Pg {
    pub dir: PathBuf,
    pub port: u16,
    bindir: PathBuf,
    as_nobody: bool,
    /// Started by someone else (the Makefile), who stops it.
    external: bool,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn pg_bindir() -> PathBuf {
    if let Ok(dir) = std::env::var("PG_BINDIR") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| rd.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    found.retain(|p| p.join("initdb").exists());
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!("PostgreSQL server binaries not found: run `make deps-postgres` (Debian package postgresql)")
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Pg {
    /// The cluster named by `DEV_HEALTH_TEST_PG_PORT` (started by `make test-server` on
    /// 127.0.0.1, superuser `postgres`, trust auth), else a cluster of our own.
    pub fn shared() -> Pg {
        match std::env::var("DEV_HEALTH_TEST_PG_PORT") {
            Ok(port) => Pg {
                dir: std::env::temp_dir(),
                port: port
                    .trim()
                    .parse()
                    .expect("DEV_HEALTH_TEST_PG_PORT is a port"),
                bindir: pg_bindir(),
                as_nobody: is_root(),
                external: true,
            },
            Err(_) => Pg::start(),
        }
    }

    pub fn start() -> Pg {
        Pg::start_with(|_| {})
    }

    /// [`Pg::start`], with `configure` run between `initdb` and the first start (to write into
    /// the data directory with [`Pg::write_data_file`]).
    pub fn start_with(configure: impl FnOnce(&Pg)) -> Pg {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "dhl-pgcluster-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let as_nobody = is_root();
        if as_nobody {
            let ok = Command::new("chown")
                .args(["-R", "nobody:"])
                .arg(&dir)
                .status()
                .unwrap();
            assert!(ok.success(), "chown nobody failed");
        }
        let pg = Pg {
            dir,
            port: free_port(),
            bindir: pg_bindir(),
            as_nobody,
            external: false,
        };
        let data = pg.dir.join("data");
        pg.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        configure(&pg);
        pg.start_server();
        pg.guard();
        pg
    }

    /// Writes (or replaces) a file in the data directory, owned by the cluster's user with
    /// `mode` (PostgreSQL refuses a private key that others can read).
    pub fn write_data_file(&self, name: &str, contents: &[u8], mode: u32) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.dir.join("data").join(name);
        std::fs::write(&path, contents).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        if self.as_nobody {
            let ok = Command::new("chown")
                .arg("nobody:")
                .arg(&path)
                .status()
                .unwrap();
            assert!(ok.success(), "chown nobody failed");
        }
        path
    }

    /// A watcher that stops the cluster and removes its directory once this test process is gone,
    /// however it ends: the cluster of a `static` is never dropped. The watcher outlives this
    /// process on purpose, so it is never waited for.
    #[allow(clippy::zombie_processes)]
    fn guard(&self) {
        let data = self.dir.join("data");
        let pg_ctl = self.bindir.join("pg_ctl");
        let stop = format!(
            "{} {} -D {} -m immediate -w stop",
            if self.as_nobody {
                "runuser -u nobody --"
            } else {
                ""
            },
            pg_ctl.display(),
            data.display()
        );
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; cd /; {stop} >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            dir = self.dir.display()
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
    }

    fn command(&self, tool: &str, args: &[&str]) -> Command {
        let exe = match self.bindir.join(tool) {
            path if path.exists() => path,
            _ => PathBuf::from(tool),
        };
        let mut cmd = if self.as_nobody {
            let mut c = Command::new("runuser");
            c.args(["-u", "nobody", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        cmd.args(args).current_dir(&self.dir);
        if tool == "psql" {
            cmd.env("PGOPTIONS", pg_options());
        }
        cmd
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let out = self.command(tool, args).output().unwrap();
        assert!(
            out.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts (or restarts) the server process.
    pub fn start_server(&self) {
        let data = self.dir.join("data");
        let log = self.dir.join("postgres.log");
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &opts,
                "-w",
                "start",
            ],
        );
    }

    /// Stops the server process (fast: open connections are cut).
    pub fn stop_server(&self) {
        let data = self.dir.join("data");
        let _ = self
            .command(
                "pg_ctl",
                &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"],
            )
            .output();
    }

    /// Creates a database and returns its URL.
    pub fn database(&self, name: &str) -> String {
        let port = self.port.to_string();
        self.run(
            "psql",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-c",
                &format!("CREATE DATABASE {name}"),
            ],
        );
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        if self.external {
            return;
        }
        let data = self.dir.join("data");
        let _ = self
            .command(
                "pg_ctl",
                &[
                    "-D",
                    data.to_str().unwrap(),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
            )
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// ---------------------------------------------------------------------------------------------
// The server's database, read and changed behind its back (as an operator, or an instance of an
// earlier version, would)

/// The `DATABASE_URL` a server runs on.
pub fn database_url(env: &[(String, String)]) -> String {
    env.iter()
        .find(|(k, _)| k == "DATABASE_URL")
        .map(|(_, v)| v.clone())
        .unwrap()
}

/// How long a connection a test opens waits for a lock the server holds before it gives up:
/// far longer than any transaction of the server, so a loaded machine slows a test down instead
/// of failing it with `database is locked`.
pub const TEST_LOCK_WAIT: Duration = Duration::from_secs(60);

/// The SQLite connection options of `url` with [`TEST_LOCK_WAIT`] as busy timeout.
pub fn sqlite_options(url: &str) -> sqlx::sqlite::SqliteConnectOptions {
    use std::str::FromStr;
    sqlx::sqlite::SqliteConnectOptions::from_str(url)
        .unwrap()
        .busy_timeout(TEST_LOCK_WAIT)
}

/// `PGOPTIONS` for a `psql` a test runs: statements wait [`TEST_LOCK_WAIT`] for a lock at most.
fn pg_options() -> String {
    format!("-c lock_timeout={}s", TEST_LOCK_WAIT.as_secs())
}

fn with_db<T>(url: &str, f: impl AsyncFnOnce(&mut sqlx::AnyConnection) -> T) -> T {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
        let wait = if conn.backend_name() == "PostgreSQL" {
            format!("SET lock_timeout = '{}s'", TEST_LOCK_WAIT.as_secs())
        } else {
            format!("PRAGMA busy_timeout = {}", TEST_LOCK_WAIT.as_millis())
        };
        sqlx::raw_sql(sqlx::AssertSqlSafe(wait))
            .execute(&mut conn)
            .await
            .unwrap();
        let out = f(&mut conn).await;
        conn.close().await.unwrap();
        out
    })
}

/// Runs SQL statements on the database at `url` (SQLite or PostgreSQL).
pub fn db_exec(url: &str, sql: &str) {
    if let Err(e) = db_try_exec(url, sql) {
        panic!("{sql}: {e}");
    }
}

/// Runs SQL statements on the database at `url`; the database's error, if any.
pub fn db_try_exec(url: &str, sql: &str) -> Result<(), String> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    with_db(url, async |conn| {
        sqlx::raw_sql(sql)
            .execute(&mut *conn)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

/// The one BIGINT column `sql` selects, row by row (`None` for NULL).
pub fn db_i64s(url: &str, sql: &str) -> Vec<Option<i64>> {
    use sqlx::Row;
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    with_db(url, async |conn| {
        sqlx::query(sql)
            .fetch_all(&mut *conn)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<Option<i64>, _>(0).unwrap())
            .collect()
    })
}

/// Waits until `f` holds, up to `timeout`.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}
pub mod billing;
pub mod scenarios;
pub mod stripe_double;

/// One query through `psql -qtAc` against the database at `url`: its output, trimmed.
pub fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([url, "-qtAc", sql])
        .env("PGOPTIONS", pg_options())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// How many sessions of the database at `url` wait for a lock.
pub fn sessions_waiting_for_a_lock(url: &str) -> String {
    psql(
        url,
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
         AND datname = current_database()",
    )
}

/// Another transaction, in a `psql` process, holding one org's row (`SELECT … FOR UPDATE`) as a
/// webhook does, until [`OrgRowLock::finish`].
pub struct OrgRowLock {
    child: Child,
    stdin: std::process::ChildStdin,
}

impl OrgRowLock {
    /// Starts the transaction and returns once it holds the row.
    pub fn hold(url: &str, org: &str) -> OrgRowLock {
        let mut child = Command::new("psql")
            .args([url, "-q", "-v", "ON_ERROR_STOP=1"])
            .env("PGOPTIONS", pg_options())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        writeln!(
            stdin,
            "BEGIN; SELECT id FROM organizations WHERE id = '{org}' FOR UPDATE;"
        )
        .unwrap();
        stdin.flush().unwrap();
        let idle_in_transaction = "SELECT count(*) FROM pg_stat_activity \
             WHERE state = 'idle in transaction' AND datname = current_database()";
        assert!(wait_until(Duration::from_secs(20), || psql(
            url,
            idle_in_transaction
        ) == "1"));
        OrgRowLock { child, stdin }
    }

    /// Runs `sql` in the transaction (ending it with `COMMIT;`) and returns how psql ended.
    pub fn finish(mut self, sql: &str) -> std::process::Output {
        writeln!(self.stdin, "{sql}").unwrap();
        drop(self.stdin);
        self.child.wait_with_output().unwrap()
    }
}
