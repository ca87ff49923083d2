//! TLS to PostgreSQL. sqlx makes the connections (rustls with ring, trusting the operating
//! system's root certificates); this module reads what `DATABASE_URL` asks for as libpq reads
//! it, checks the files it names before the first connection, and turns a refused handshake into
//! a message an operator can act on. Nothing here keeps or shows the URL's password.
//!
//! The settings come from the URL's query (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`, or
//! sqlx's spellings `ssl-mode`, …), else from `PGSSLMODE`, `PGSSLROOTCERT`, `PGSSLCERT` and
//! `PGSSLKEY`, and are handed to sqlx explicitly, so the mode logged is the mode used. Where sqlx
//! departs from libpq, libpq's rule is applied here:
//! * `sslmode=require` with a `sslrootcert` checks the certificate's chain, as `verify-ca` does;
//! * `sslmode=allow` connects to a server that takes only TLS (sqlx's never tries TLS): it runs
//!   as `prefer`;
//! * `sslrootcert=system` names the system's roots and needs `sslmode=verify-full`.
//!
//! One difference stays: sqlx trusts a `sslrootcert` in addition to the system's roots, where
//! libpq trusts it alone. `verify-full` still checks the host name, so only a certificate for
//! this very host from a public CA would pass; `verify-ca` would accept any publicly signed
//! certificate, which is why it is warned about.

use std::path::{Path, PathBuf};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::CertificateError;
use url::Url;

/// The `sslmode` values, as libpq names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SslMode {
    /// Plain text only.
    Disable,
    /// Plain text, or TLS if the server insists.
    Allow,
    /// TLS if the server offers it, without checking its certificate (libpq's default).
    Prefer,
    /// TLS, without checking the certificate.
    Require,
    /// TLS; the certificate must chain to a trusted root.
    VerifyCa,
    /// TLS; the certificate must chain to a trusted root and name the host connected to.
    VerifyFull,
}

impl SslMode {
    const ALL: [SslMode; 6] = [
        SslMode::Disable,
        SslMode::Allow,
        SslMode::Prefer,
        SslMode::Require,
        SslMode::VerifyCa,
        SslMode::VerifyFull,
    ];

    /// The name in a URL and in logs.
    pub fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    fn parse(value: &str) -> Option<SslMode> {
        let value = value.trim();
        SslMode::ALL
            .into_iter()
            .find(|mode| mode.name().eq_ignore_ascii_case(value))
    }
}

/// Where the roots that check the server's certificate come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Roots {
    /// The operating system's roots only.
    System,
    /// A PEM file (`sslrootcert`), with the system's roots.
    File(PathBuf),
}

/// How the connections to PostgreSQL use TLS.
#[derive(Debug, Clone)]
pub struct PgTls {
    /// The mode asked for.
    pub asked: SslMode,
    /// The mode run (libpq's rules applied; see the module's doc).
    pub mode: SslMode,
    /// The roots a checked certificate must chain to.
    pub roots: Roots,
    /// A client certificate is presented (`sslcert` and `sslkey`).
    pub client_certificate: bool,
    /// The host connected to: the name `verify-full` looks for in the certificate.
    pub host: String,
}

/// The URL query keys (sqlx's spellings too) and the variable that stands in for each.
const SSLMODE: (&[&str], &str) = (&["sslmode", "ssl-mode"], "PGSSLMODE");
const SSLROOTCERT: (&[&str], &str) = (&["sslrootcert", "ssl-root-cert", "ssl-ca"], "PGSSLROOTCERT");
const SSLCERT: (&[&str], &str) = (&["sslcert", "ssl-cert"], "PGSSLCERT");
const SSLKEY: (&[&str], &str) = (&["sslkey", "ssl-key"], "PGSSLKEY");

impl PgTls {
    /// Reads the TLS settings of a PostgreSQL URL (`env` stands for the process environment) and
    /// checks the files they name. Returns them and the URL to connect with, which spells them
    /// all out. Errors name the setting, never the URL.
    pub fn read(
        url: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(PgTls, String), String> {
        let mut url = Url::parse(url)
            .map_err(|e| format!("DATABASE_URL is not a valid PostgreSQL URL ({e})"))?;
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let setting = |(keys, var): (&[&str], &str)| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| keys.contains(&k.as_str()))
                .map(|(_, v)| v.clone())
                .or_else(|| env(var))
                .filter(|v| !v.trim().is_empty())
        };

        let asked = match setting(SSLMODE) {
            None => SslMode::Prefer,
            Some(value) => SslMode::parse(&value).ok_or_else(|| {
                format!(
                    "DATABASE_URL: sslmode {value:?} is not one of {}",
                    SslMode::ALL.map(SslMode::name).join(", ")
                )
            })?,
        };
        // sqlx reads the variable too, and would take `system` for a file name.
        if env(SSLROOTCERT.1).is_some_and(|v| v == "system") {
            return Err(
                "PGSSLROOTCERT=system is not supported: unset it (without sslrootcert the \
                        system's roots are used) or put sslrootcert=system in DATABASE_URL"
                    .into(),
            );
        }
        let roots = match setting(SSLROOTCERT) {
            None => Roots::System,
            Some(value) if value == "system" => {
                if asked != SslMode::VerifyFull {
                    return Err(format!(
                        "DATABASE_URL: sslrootcert=system needs sslmode=verify-full (it is {})",
                        asked.name()
                    ));
                }
                Roots::System
            }
            Some(path) => {
                let path = PathBuf::from(path);
                check_root_certificates(&path)?;
                Roots::File(path)
            }
        };
        let client = match (setting(SSLCERT), setting(SSLKEY)) {
            (None, None) => None,
            (Some(cert), Some(key)) => {
                let (cert, key) = (PathBuf::from(cert), PathBuf::from(key));
                check_readable("sslcert", &cert)?;
                check_readable("sslkey", &key)?;
                Some((cert, key))
            }
            (Some(_), None) => return Err("DATABASE_URL: sslcert is set but sslkey is not".into()),
            (None, Some(_)) => return Err("DATABASE_URL: sslkey is set but sslcert is not".into()),
        };
        let mode = match (asked, &roots) {
            (SslMode::Require, Roots::File(_)) => SslMode::VerifyCa,
            (SslMode::Allow, _) => SslMode::Prefer,
            (mode, _) => mode,
        };

        let all_keys = [SSLMODE, SSLROOTCERT, SSLCERT, SSLKEY];
        let kept = pairs
            .iter()
            .filter(|(k, _)| !all_keys.iter().any(|(keys, _)| keys.contains(&k.as_str())));
        {
            let mut query = url.query_pairs_mut();
            query.clear().extend_pairs(kept);
            query.append_pair("sslmode", mode.name());
            if let Roots::File(path) = &roots {
                query.append_pair("sslrootcert", &path.to_string_lossy());
            }
            if let Some((cert, key)) = &client {
                query.append_pair("sslcert", &cert.to_string_lossy());
                query.append_pair("sslkey", &key.to_string_lossy());
            }
        }
        let host = url
            .host_str()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_owned())
            .or_else(|| env("PGHOST"))
            .unwrap_or_else(|| "localhost".to_owned());
        let tls = PgTls {
            asked,
            mode,
            roots,
            client_certificate: client.is_some(),
            host,
        };
        Ok((tls, url.into()))
    }

    /// What is checked of the server's certificate, for the log.
    pub fn checks(&self) -> &'static str {
        match self.mode {
            SslMode::Disable | SslMode::Allow | SslMode::Prefer | SslMode::Require => "nothing",
            SslMode::VerifyCa => "chain",
            SslMode::VerifyFull => "chain and host name",
        }
    }

    /// The roots, for the log.
    pub fn roots_name(&self) -> String {
        match &self.roots {
            Roots::System => "system".to_owned(),
            Roots::File(path) => format!("sslrootcert {} and system", path.display()),
        }
    }

    /// Says why a connection failed, in the operator's terms where TLS is the cause; else sqlx's
    /// own message (which never holds the URL).
    pub fn explain(&self, error: &sqlx::Error) -> String {
        let mode = self.mode_text();
        match error {
            sqlx::Error::Io(io) => {
                match io.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
                    Some(rustls::Error::InvalidCertificate(cert)) => {
                        format!("{} ({mode})", self.certificate_refused(cert))
                    }
                    Some(tls) => {
                        format!(
                            "the TLS handshake with the PostgreSQL server failed ({mode}): {tls}"
                        )
                    }
                    None => error.to_string(),
                }
            }
            sqlx::Error::Tls(e) if e.to_string().contains("does not support TLS") => format!(
                "the PostgreSQL server does not offer TLS, and {mode} requires it: turn `ssl` on \
                 in its postgresql.conf, or lower sslmode"
            ),
            sqlx::Error::Tls(e) => format!("TLS to PostgreSQL ({mode}): {e}"),
            sqlx::Error::Database(db)
                if self.mode == SslMode::Disable && db.message().contains("no encryption") =>
            {
                format!("{error} (sslmode=disable: this server takes TLS connections only)")
            }
            sqlx::Error::Database(db)
                if !self.client_certificate && db.message().contains("client certificate") =>
            {
                format!("{error} (set sslcert and sslkey in DATABASE_URL)")
            }
            _ => error.to_string(),
        }
    }

    fn certificate_refused(&self, error: &CertificateError) -> String {
        let server = "the PostgreSQL server's certificate";
        match error {
            CertificateError::UnknownIssuer => match &self.roots {
                Roots::File(path) => format!(
                    "{server} is not signed by the root certificate in sslrootcert ({}) nor by a \
                     root this system trusts",
                    path.display()
                ),
                Roots::System => format!(
                    "{server} is not signed by a root this system trusts: name its CA's \
                     certificate with sslrootcert=<file>"
                ),
            },
            CertificateError::NotValidForNameContext { presented, .. } => format!(
                "{server} is not issued for the host {} (it names {}): connect by a name it holds",
                self.host,
                if presented.is_empty() {
                    "no host".to_owned()
                } else {
                    presented
                        .iter()
                        .map(|name| presented_name(name))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
            CertificateError::NotValidForName => format!(
                "{server} is not issued for the host {}: connect by a name it holds",
                self.host
            ),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                format!("{server} has expired")
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                format!("{server} is not valid yet (is this machine's clock right?)")
            }
            other => format!("{server} is refused: {other:?}"),
        }
    }

    fn mode_text(&self) -> String {
        if self.mode == self.asked {
            format!("sslmode={}", self.mode.name())
        } else {
            format!("sslmode={}, run as {}", self.asked.name(), self.mode.name())
        }
    }
}

/// A name the certificate holds, as webpki spells it (`DnsName("db.internal")`,
/// `IpAddress(10.0.0.5)`), without the wrapper; control characters (the certificate is the
/// other side's data, bound for the log) become `?`.
fn presented_name(name: &str) -> String {
    let bare = name
        .strip_prefix("DnsName(\"")
        .and_then(|n| n.strip_suffix("\")"))
        .or_else(|| {
            name.strip_prefix("IpAddress(")
                .and_then(|n| n.strip_suffix(')'))
        })
        .unwrap_or(name);
    bare.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// A root certificate file must hold at least one PEM certificate, each of which parses.
fn check_root_certificates(path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| {
        format!(
            "DATABASE_URL: sslrootcert {} cannot be read: {e}",
            path.display()
        )
    })?;
    let mut count = 0usize;
    for cert in CertificateDer::pem_slice_iter(&bytes) {
        cert.map_err(|e| {
            format!(
                "DATABASE_URL: sslrootcert {} holds a certificate that does not parse: {e}",
                path.display()
            )
        })?;
        count += 1;
    }
    if count == 0 {
        return Err(format!(
            "DATABASE_URL: sslrootcert {} holds no PEM certificate",
            path.display()
        ));
    }
    Ok(())
}

fn check_readable(setting: &str, path: &Path) -> Result<(), String> {
    std::fs::File::open(path).map(drop).map_err(|e| {
        format!(
            "DATABASE_URL: {setting} {} cannot be read: {e}",
            path.display()
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A directory of its own, removed when dropped.
    struct Dir(PathBuf);

    impl Dir {
        fn new(name: &str) -> Dir {
            let dir = std::env::temp_dir().join(format!("dhl-tls-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Dir(dir)
        }

        fn file(&self, name: &str, contents: &str) -> String {
            let path = self.0.join(name);
            std::fs::write(&path, contents).unwrap();
            path.to_string_lossy().into_owned()
        }

        fn root_certificate(&self) -> String {
            let key = rcgen::KeyPair::generate().unwrap();
            let cert = rcgen::CertificateParams::new(Vec::<String>::new())
                .unwrap()
                .self_signed(&key)
                .unwrap();
            self.file("root.pem", &cert.pem())
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn read(url: &str, env: &[(&str, &str)]) -> Result<(PgTls, String), String> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        PgTls::read(url, move |k| env.get(k).cloned())
    }

    #[test]
    fn the_default_is_prefer_and_is_spelled_out() {
        let (tls, url) = read("postgres://u@db.internal:5432/licenses", &[]).unwrap();
        assert_eq!((tls.asked, tls.mode), (SslMode::Prefer, SslMode::Prefer));
        assert_eq!(tls.host, "db.internal");
        assert_eq!(url, "postgres://u@db.internal:5432/licenses?sslmode=prefer");
    }

    #[test]
    fn the_url_keeps_its_password_and_other_settings() {
        let (tls, url) = read(
            "postgres://u:p%40ss@127.0.0.1/db?application_name=dhl&ssl-mode=REQUIRE",
            &[],
        )
        .unwrap();
        assert_eq!(tls.mode, SslMode::Require);
        assert_eq!(
            url,
            "postgres://u:p%40ss@127.0.0.1/db?application_name=dhl&sslmode=require"
        );
    }

    #[test]
    fn the_url_wins_over_the_environment_which_fills_in_the_rest() {
        let (tls, _) = read("postgres://u@h/db", &[("PGSSLMODE", "verify-full")]).unwrap();
        assert_eq!(tls.mode, SslMode::VerifyFull);
        let (tls, url) = read(
            "postgres://u@h/db?sslmode=disable",
            &[("PGSSLMODE", "verify-full")],
        )
        .unwrap();
        assert_eq!(tls.mode, SslMode::Disable);
        assert!(url.ends_with("?sslmode=disable"), "{url}");
    }

    #[test]
    fn require_with_a_root_certificate_checks_the_chain_as_libpq_does() {
        let dir = Dir::new("require");
        let root = dir.root_certificate();
        let (tls, url) = read(
            &format!("postgres://u@h/db?sslmode=require&sslrootcert={root}"),
            &[],
        )
        .unwrap();
        assert_eq!((tls.asked, tls.mode), (SslMode::Require, SslMode::VerifyCa));
        assert_eq!(tls.roots, Roots::File(PathBuf::from(&root)));
        assert!(url.contains("sslmode=verify-ca&sslrootcert="), "{url}");
    }

    #[test]
    fn allow_runs_as_prefer_so_that_a_tls_only_server_is_reached() {
        let (tls, url) = read("postgres://u@h/db?sslmode=allow", &[]).unwrap();
        assert_eq!((tls.asked, tls.mode), (SslMode::Allow, SslMode::Prefer));
        assert!(url.ends_with("?sslmode=prefer"), "{url}");
    }

    #[test]
    fn system_roots_need_verify_full() {
        let (tls, url) = read(
            "postgres://u@h/db?sslmode=verify-full&sslrootcert=system",
            &[],
        )
        .unwrap();
        assert_eq!(tls.roots, Roots::System);
        assert!(!url.contains("sslrootcert"), "{url}");
        let e = read("postgres://u@h/db?sslmode=require&sslrootcert=system", &[]).unwrap_err();
        assert!(
            e.contains("sslrootcert=system needs sslmode=verify-full"),
            "{e}"
        );
        let e = read(
            "postgres://u@h/db?sslmode=verify-full",
            &[("PGSSLROOTCERT", "system")],
        )
        .unwrap_err();
        assert!(e.contains("PGSSLROOTCERT=system is not supported"), "{e}");
    }

    #[test]
    fn a_client_certificate_needs_both_files() {
        let dir = Dir::new("client");
        let cert = dir.file("client.pem", "cert");
        let key = dir.file("client.key", "key");
        let (tls, url) = read(
            &format!("postgres://u@h/db?sslmode=verify-full&sslcert={cert}&sslkey={key}"),
            &[],
        )
        .unwrap();
        assert!(tls.client_certificate);
        assert!(
            url.contains("&sslcert=") && url.contains("&sslkey="),
            "{url}"
        );
        let e = read(&format!("postgres://u@h/db?sslcert={cert}"), &[]).unwrap_err();
        assert!(e.contains("sslcert is set but sslkey is not"), "{e}");
    }

    #[test]
    fn names_in_a_certificate_read_plainly() {
        assert_eq!(presented_name("DnsName(\"db.internal\")"), "db.internal");
        assert_eq!(presented_name("IpAddress(10.0.0.5)"), "10.0.0.5");
        assert_eq!(presented_name("DnsName(\"a\nb\")"), "a?b");
        assert_eq!(presented_name("DirectoryName"), "DirectoryName");
    }

    #[test]
    fn errors_name_the_setting_and_never_the_password() {
        let dir = Dir::new("errors");
        let empty = dir.file("empty.pem", "not a certificate\n");
        let missing = dir.0.join("missing.pem");
        let cases = [
            (
                "sslmode=sometimes".to_owned(),
                "sslmode \"sometimes\" is not one of",
            ),
            (
                format!("sslmode=verify-full&sslrootcert={}", missing.display()),
                "sslrootcert",
            ),
            (
                format!("sslmode=verify-full&sslrootcert={empty}"),
                "holds no PEM certificate",
            ),
            (
                format!("sslkey={}", missing.display()),
                "sslkey is set but sslcert is not",
            ),
        ];
        for (query, expected) in cases {
            let e = read(&format!("postgres://u:hunter2secret@h/db?{query}"), &[]).unwrap_err();
            assert!(e.contains(expected), "{query}: {e}");
            assert!(!e.contains("hunter2secret"), "{query}: {e}");
        }
    }
}
