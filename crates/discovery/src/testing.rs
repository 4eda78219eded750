//! Test support (cargo feature `testing`): real git repositories for the tests of this crate and
//! the binary, made with the `git` command-line tool (the code under
//! test reads and writes them with gix only).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs git in `dir` as `author`, at `date` (git's date format) when given.
pub fn git_as(dir: &Path, author: (&str, &str), date: Option<&str>, args: &[&str]) -> String {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", author.0)
        .env("GIT_AUTHOR_EMAIL", author.1)
        .env("GIT_COMMITTER_NAME", author.0)
        .env("GIT_COMMITTER_EMAIL", author.1);
    if let Some(d) = date {
        cmd.env("GIT_AUTHOR_DATE", d).env("GIT_COMMITTER_DATE", d);
    }
    let out = cmd.output().expect("git is installed");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    git_as(dir, ("Alice", "alice@example.com"), None, args)
}

/// A working-tree repository at `dir` with `files` committed on `main` by `author`.
pub fn repo_with(dir: &Path, files: &[(&str, &str)], author: (&str, &str)) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    git(dir, &["init", "-q"]);
    commit_files(dir, files, author, "initial");
    dir.to_path_buf()
}

pub fn commit_files(dir: &Path, files: &[(&str, &str)], author: (&str, &str), message: &str) {
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    git_as(dir, author, None, &["add", "-A"]);
    git_as(
        dir,
        author,
        None,
        &["commit", "-q", "--allow-empty", "-m", message],
    );
}

/// A bare repository at `bare` whose `main` holds `files`.
pub fn bare_repo_with(bare: &Path, files: &[(&str, &str)]) -> PathBuf {
    let work = bare.with_extension("work");
    repo_with(&work, files, ("Bob", "bob@example.com"));
    git(
        bare.parent().unwrap(),
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    std::fs::remove_dir_all(&work).unwrap();
    bare.to_path_buf()
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
