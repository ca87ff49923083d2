//! TLS between the server and PostgreSQL: the real `dev-health-license serve` binary against a
//! private PostgreSQL cluster with `ssl = on`, a certificate for 127.0.0.1 signed by a test root,
//! and a `pg_hba.conf` that rejects every connection without TLS, so a server that starts has
//! spoken TLS. `sslmode`, `sslrootcert`, `sslcert` and `sslkey` come from `DATABASE_URL`, whose
//! password must never show in a message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod server_support;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use server_support::*;

/// The password in every URL: trust authentication never asks for it, so it is only there to be
/// looked for in the server's messages.
const PASSWORD: &str = "pw-that-must-never-be-shown-0123";
/// The database whose `pg_hba.conf` line asks for a client certificate.
const CERT_AUTH_DB: &str = "certauth";

/// The cluster and the certificates around it.
struct TlsCluster {
    pg: Pg,
    /// The root that signed the server's (and the client's) certificate.
    root: PathBuf,
    /// A root that signed nothing the cluster presents.
    other_root: PathBuf,
    /// A client certificate for the user `postgres`, signed by `root`, and its key.
    client_cert: PathBuf,
    client_key: PathBuf,
}

/// A certificate authority made for these tests.
struct Ca {
    cert: Certificate,
    key: KeyPair,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).unwrap();
        Ca { cert, key }
    }

    /// A leaf certificate and its key (PEM): `names` become its subject alternative names (an IP
    /// address is stored as one), the first also its common name.
    fn issue(&self, names: &[&str], usage: ExtendedKeyUsagePurpose) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names.clone()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, &names[0]);
        params.extended_key_usages = vec![usage];
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

fn cluster() -> &'static TlsCluster {
    static CLUSTER: OnceLock<TlsCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let root = Ca::new("dev-health test root");
        let other = Ca::new("another test root");
        // Only the IP address: connecting by `localhost` is then a name the certificate lacks.
        let (server_cert, server_key) =
            root.issue(&["127.0.0.1"], ExtendedKeyUsagePurpose::ServerAuth);
        let (client_cert, client_key) =
            root.issue(&["postgres"], ExtendedKeyUsagePurpose::ClientAuth);
        let pg = Pg::start_with(|pg| {
            pg.write_data_file("server.crt", server_cert.as_bytes(), 0o600);
            pg.write_data_file("server.key", server_key.as_bytes(), 0o600);
            // The root that client certificates must chain to.
            pg.write_data_file("root.crt", root.cert.pem().as_bytes(), 0o600);
            let conf = pg.dir.join("data").join("postgresql.conf");
            let mut settings = std::fs::read_to_string(&conf).unwrap();
            settings.push_str(
                "\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n\
                 ssl_ca_file = 'root.crt'\n",
            );
            pg.write_data_file("postgresql.conf", settings.as_bytes(), 0o600);
            let hba = format!(
                "local all all trust\n\
                 hostssl {CERT_AUTH_DB} all 127.0.0.1/32 cert\n\
                 hostssl all all 127.0.0.1/32 trust\n\
                 hostnossl all all 127.0.0.1/32 reject\n"
            );
            pg.write_data_file("pg_hba.conf", hba.as_bytes(), 0o600);
        });
        pg.database(CERT_AUTH_DB);
        // Beside the data directory, removed with the cluster.
        let file = |name: &str, contents: &str| {
            let path = pg.dir.join(name);
            std::fs::write(&path, contents).unwrap();
            path
        };
        TlsCluster {
            root: file("root.pem", &root.cert.pem()),
            other_root: file("other-root.pem", &other.cert.pem()),
            client_cert: file("client.crt", &client_cert),
            client_key: file("client.key", &client_key),
            pg,
        }
    })
}

/// A new database of the TLS cluster: its URL with `host` and the password, without a query.
fn database(host: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "tls{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let c = cluster();
    c.pg.database(&name);
    format!("postgres://postgres:{PASSWORD}@{host}:{}/{name}", c.pg.port)
}

fn start(url: &str) -> (TempDir, Server) {
    let dir = TempDir::new("pgtls");
    let server = Server::start(&dir.0, base_env(url));
    (dir, server)
}

/// Runs a server that must not start: its log, after checking that it exited non-zero and that
/// neither the URL nor its password shows.
fn refused(url: &str) -> String {
    let dir = TempDir::new("pgtls");
    let (status, log) = Server::refused(&dir.0, base_env(url));
    assert!(!status.success(), "exited with {status}:\n{log}");
    assert!(!log.contains(PASSWORD), "the password shows:\n{log}");
    assert!(!log.contains("postgres://"), "the URL shows:\n{log}");
    log
}

/// The server works: it answers, and it writes to the database.
fn assert_serves(s: &Server) {
    let health = s.get("/healthz", None);
    assert_eq!(health.status, 200, "{}", health.text());
    assert_eq!(health.json()["database"], "postgres");
    s.create_org("org_tls", "manual");
    assert_eq!(s.tier("org_tls"), "community");
}

/// The server's start-up line about its PostgreSQL connection.
fn connection_line(s: &Server) -> String {
    let logs = s.logs();
    logs.lines()
        .find(|l| l.contains("PostgreSQL connection"))
        .unwrap_or_else(|| panic!("no connection line in the log:\n{logs}"))
        .to_owned()
}

#[test]
fn require_connects_over_tls() {
    let url = database("127.0.0.1");
    let (_d, s) = start(&format!("{url}?sslmode=require"));
    assert_serves(&s);
    let line = connection_line(&s);
    assert!(line.contains("sslmode=\"require\""), "{line}");
    assert!(line.contains("tls=TLSv1."), "{line}");
    assert!(line.contains("checks=\"nothing\""), "{line}");
    // The cluster's own view: every session on this database (the server's pool and this
    // psql) is encrypted.
    let all_tls = psql(
        &format!("{url}?sslmode=require"),
        "SELECT bool_and(ssl) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) \
         WHERE datname = current_database()",
    );
    assert_eq!(all_tls, "t");
}

#[test]
fn the_default_sslmode_uses_tls_when_the_server_offers_it() {
    let (_d, s) = start(&database("127.0.0.1"));
    assert_serves(&s);
    let line = connection_line(&s);
    assert!(line.contains("sslmode=\"prefer\""), "{line}");
    assert!(line.contains("tls=TLSv1."), "{line}");
}

#[test]
fn verify_full_accepts_the_certificate_its_sslrootcert_signed_for_the_host() {
    let root = cluster().root.display().to_string();
    let url = format!(
        "{}?sslmode=verify-full&sslrootcert={root}",
        database("127.0.0.1")
    );
    let (_d, s) = start(&url);
    assert_serves(&s);
    let line = connection_line(&s);
    assert!(line.contains("sslmode=\"verify-full\""), "{line}");
    assert!(line.contains("checks=\"chain and host name\""), "{line}");
    assert!(line.contains(&root), "{line}");
}

#[test]
fn verify_full_refuses_a_certificate_another_root_signed() {
    let other = cluster().other_root.display().to_string();
    let log = refused(&format!(
        "{}?sslmode=verify-full&sslrootcert={other}",
        database("127.0.0.1")
    ));
    let expected = format!(
        "the PostgreSQL server's certificate is not signed by the root certificate in \
         sslrootcert ({other})"
    );
    assert!(log.contains(&expected), "{log}");
}

#[test]
fn verify_full_refuses_a_host_name_the_certificate_lacks_where_verify_ca_accepts_it() {
    let root = cluster().root.display().to_string();
    let url = database("localhost");
    let log = refused(&format!("{url}?sslmode=verify-full&sslrootcert={root}"));
    assert!(
        log.contains(
            "the PostgreSQL server's certificate is not issued for the host localhost \
             (it names 127.0.0.1)"
        ),
        "{log}"
    );
    let (_d, s) = start(&format!("{url}?sslmode=verify-ca&sslrootcert={root}"));
    assert_serves(&s);
    assert!(connection_line(&s).contains("checks=\"chain\""));
    assert!(s
        .logs()
        .contains("sslmode=verify-ca accepts a certificate for any host"));
}

#[test]
fn require_with_sslrootcert_checks_the_chain_as_libpq_does() {
    let other = cluster().other_root.display().to_string();
    let log = refused(&format!(
        "{}?sslmode=require&sslrootcert={other}",
        database("127.0.0.1")
    ));
    assert!(log.contains("sslmode=require, run as verify-ca"), "{log}");
    assert!(
        log.contains("is not signed by the root certificate in sslrootcert"),
        "{log}"
    );
}

#[test]
fn disable_is_refused_by_a_server_that_takes_only_tls() {
    let log = refused(&format!("{}?sslmode=disable", database("127.0.0.1")));
    assert!(log.contains("no encryption"), "{log}");
    assert!(
        log.contains("(sslmode=disable: this server takes TLS connections only)"),
        "{log}"
    );
}

#[test]
fn a_client_certificate_from_sslcert_and_sslkey_logs_in() {
    let c = cluster();
    let url = format!(
        "postgres://postgres:{PASSWORD}@127.0.0.1:{}/{CERT_AUTH_DB}?sslmode=verify-full&sslrootcert={}",
        c.pg.port,
        c.root.display()
    );
    let log = refused(&url);
    assert!(
        log.contains("requires a valid client certificate")
            && log.contains("(set sslcert and sslkey in DATABASE_URL)"),
        "{log}"
    );
    let url = format!(
        "{url}&sslcert={}&sslkey={}",
        c.client_cert.display(),
        c.client_key.display()
    );
    let (_d, s) = start(&url);
    assert_serves(&s);
    assert!(connection_line(&s).contains("client_certificate=true"));
}

#[test]
fn require_is_refused_by_a_server_without_tls() {
    // The plain cluster the other PostgreSQL tests use (or one of our own).
    let plain = Pg::shared();
    let url = plain.database(&format!("plain{}", std::process::id()));
    let url = url.replacen("postgres@", &format!("postgres:{PASSWORD}@"), 1);
    let log = refused(&format!("{url}?sslmode=require"));
    assert!(
        log.contains("the PostgreSQL server does not offer TLS, and sslmode=require requires it"),
        "{log}"
    );
    let dir = TempDir::new("pgtls");
    let s = Server::start(&dir.0, base_env(&url));
    assert!(connection_line(&s).contains("tls=none"));
}
