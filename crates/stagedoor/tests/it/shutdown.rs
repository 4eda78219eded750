//! SIGTERM ends `stagedoor serve` within seconds, even in the middle of a long processing round.

use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common;
use common::free_port;

/// The status of `GET path`, or `None` while nothing listens.
fn status(port: u16, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

#[test]
fn sigterm_during_a_round_exits_promptly_and_cleanly() {
    // 20,000 entities: the first round takes about 10 s in a debug build.
    let dir = tempfile::tempdir().unwrap();
    for f in 0..10 {
        let mut yaml = String::new();
        for i in 0..2000 {
            write!(
                yaml,
                "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: c{f}-{i}\n  description: component {i} of file {f}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-{}\n",
                i % 50
            )
            .unwrap();
        }
        std::fs::write(dir.path().join(format!("c{f}.yaml")), yaml).unwrap();
    }
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_stagedoor"))
        .args(["serve", "--db", "sqlite::memory:", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--location")
        .arg(dir.path().join("*.yaml"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while status(port, "/healthz") != Some(200) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never listened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        status(port, "/readyz"),
        Some(503),
        "the first round is still running"
    );
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let signalled = Instant::now();
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if signalled.elapsed() > Duration::from_secs(5) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let Some(exit) = exit else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("still running 5 s after SIGTERM");
    };
    assert!(exit.success(), "exit status {exit}");
}
