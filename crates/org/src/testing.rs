//! Test support (cargo feature `testing`): a real OpenLDAP `slapd` started on a loopback port
//! with a generated `slapd.conf` (the `memberof` overlay on, so `memberOf` is maintained) and
//! filled from `tests/fixtures/org.ldif` with `ldapadd`, for this crate's and the binary's
//! tests. Without slapd a test skips, except under `CI=true`, where it fails.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const SUFFIX: &str = "dc=example,dc=org";
pub const ADMIN: &str = "cn=admin,dc=example,dc=org";
pub const PASSWORD: &str = "test-secret";

/// A running slapd, stopped (by its own process id) when dropped.
pub struct Slapd {
    child: Child,
    pub url: String,
    /// The same directory over `ldaps://`, with a self-signed certificate made by `openssl`.
    pub ldaps_url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn slapd_binary() -> Option<PathBuf> {
    ["/usr/sbin/slapd", "/usr/local/sbin/slapd"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

impl Slapd {
    /// Starts slapd with the fixture loaded, or `None` (with a notice) when it is not installed
    /// outside CI.
    pub fn start() -> Option<Slapd> {
        let Some(bin) = slapd_binary() else {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!(
                    "CI=true but slapd is not installed: scripts/test installs slapd and ldap-utils"
                );
            }
            eprintln!(
                "notice: slapd is not installed, skipping an LDAP test (apt-get install slapd ldap-utils)"
            );
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("db")).unwrap();
        // A self-signed certificate for 127.0.0.1, so `ldaps://` (rustls) is tested for real.
        let made = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args([
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ])
            .arg("-keyout")
            .arg(dir.path().join("key.pem"))
            .arg("-out")
            .arg(dir.path().join("cert.pem"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl (scripts/test installs it) makes the test certificate");
        assert!(made.success(), "openssl req failed");
        let conf = dir.path().join("slapd.conf");
        std::fs::write(
            &conf,
            format!(
                "include /etc/ldap/schema/core.schema\n\
                 include /etc/ldap/schema/cosine.schema\n\
                 include /etc/ldap/schema/inetorgperson.schema\n\
                 modulepath /usr/lib/ldap\n\
                 moduleload back_mdb\n\
                 moduleload memberof\n\
                 pidfile {dir}/slapd.pid\n\
                 TLSCertificateFile {dir}/cert.pem\n\
                 TLSCertificateKeyFile {dir}/key.pem\n\
                 database mdb\n\
                 maxsize 10485760\n\
                 suffix \"{SUFFIX}\"\n\
                 rootdn \"{ADMIN}\"\n\
                 rootpw {PASSWORD}\n\
                 directory {dir}/db\n\
                 overlay memberof\n",
                dir = dir.path().display()
            ),
        )
        .unwrap();
        let free = || {
            TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        };
        let (port, tls_port) = (free(), free());
        let url = format!("ldap://127.0.0.1:{port}");
        let ldaps_url = format!("ldaps://127.0.0.1:{tls_port}");
        // `-d 0`: stay in the foreground (so the test owns the process), logging nothing.
        let child = Command::new(bin)
            .args([
                "-f",
                conf.to_str().unwrap(),
                "-h",
                &format!("{url}/ {ldaps_url}/"),
                "-d",
                "0",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start slapd");
        let slapd = Slapd {
            child,
            url,
            ldaps_url,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        for p in [port, tls_port] {
            while std::net::TcpStream::connect(("127.0.0.1", p)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "slapd did not start listening on {p}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        slapd.ldif(
            "ldapadd",
            &std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/org.ldif"),
            )
            .unwrap(),
        );
        Some(slapd)
    }

    /// Runs `ldapadd` or `ldapmodify` as the directory's admin with `ldif` on stdin.
    pub fn ldif(&self, tool: &str, ldif: &str) {
        use std::io::Write;
        let mut c = Command::new(tool)
            .args(["-x", "-H", &self.url, "-D", ADMIN, "-w", PASSWORD])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{tool} (ldap-utils): {e}"));
        c.stdin.take().unwrap().write_all(ldif.as_bytes()).unwrap();
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{tool}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
