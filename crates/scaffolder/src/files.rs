//! The files a run works on — a task's workspace and its template's directory — on disk for a
//! task, in memory for a dry-run (which therefore never touches the disk). Every action reads
//! and writes through [`Files`], with paths confined as Backstage's `resolveSafeChildPath` does.

use std::collections::{BTreeMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::ScaffolderError;
use crate::workspace::{escape, normalize, relative};

/// What a path names (symlinks are not followed; only a disk tree can hold one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
}

/// What the actions need of a file's metadata.
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    pub kind: Kind,
    pub len: u64,
    /// `st_mode`, type bits included, as a skeleton's log line prints it.
    pub mode: u32,
}

/// One entry of a walk: its path relative to the walked directory, with `/` separators.
pub struct Entry {
    pub rel: String,
    pub meta: Meta,
}

/// A directory tree rooted at `root`. Paths given to its operations are the root-relative,
/// normalised strings [`Files::resolve`] returns (`""` is the root itself).
pub struct Files {
    /// On disk, the real directory; in memory, where the tree would be, for logs and
    /// `fullPath`s (nothing is created there).
    root: PathBuf,
    store: Store,
    /// Bytes written so far (counted in memory only, where they are the server's RAM).
    written: std::sync::atomic::AtomicUsize,
}

/// What one tree in memory may have written in all, rewrites included. A dry-run's template is
/// the caller's: `each` over a copy of its 32 MB of contents would otherwise hold gigabytes.
pub const MAX_MEMORY_BYTES: usize = 256 * 1024 * 1024;

enum Store {
    Disk(Disk),
    Memory(Mutex<BTreeMap<String, Node>>),
}

struct Disk {
    /// Directories (root-relative) whose real path is their lexical one: the symlink check can
    /// stop there without a `canonicalize`. Forgotten whenever something is removed or moved.
    plain_dirs: Mutex<HashSet<String>>,
}

enum Node {
    Dir,
    File { bytes: Vec<u8>, mode: u32 },
}

const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
/// The permission bits a file written without a mode gets under the usual umask (022).
const DEFAULT_MODE: u32 = 0o644;

/// `rel` under `dir` (both root-relative).
pub fn join(dir: &str, rel: &str) -> String {
    match (dir.is_empty(), rel.is_empty()) {
        (true, _) => rel.to_owned(),
        (_, true) => dir.to_owned(),
        _ => format!("{dir}/{rel}"),
    }
}

/// The directory part of a root-relative path (`""` for a name in the root).
fn parent(rel: &str) -> Option<&str> {
    if rel.is_empty() {
        return None;
    }
    Some(rel.rsplit_once('/').map_or("", |(p, _)| p))
}

fn io_err(kind: io::ErrorKind, what: &str, rel: &str) -> io::Error {
    io::Error::new(kind, format!("{what}: {rel}"))
}

impl Files {
    /// A tree on disk; `root` must exist by the time a path is resolved in it.
    pub fn disk(root: impl Into<PathBuf>) -> Files {
        Files {
            root: normalize(&root.into()),
            store: Store::Disk(Disk {
                plain_dirs: Mutex::default(),
            }),
            written: Default::default(),
        }
    }

    /// An empty tree in memory, shown as if it were at `root`.
    pub fn memory(root: impl Into<PathBuf>) -> Files {
        Files {
            root: normalize(&root.into()),
            store: Store::Memory(Mutex::default()),
            written: Default::default(),
        }
    }

    /// Where `rel` is (or would be) as an absolute path, for logs and outputs.
    pub fn path(&self, rel: &str) -> PathBuf {
        if rel.is_empty() {
            self.root.clone()
        } else {
            self.root.join(rel)
        }
    }

    /// The absolute path of `rel` on disk, for what hands the workspace to another program
    /// (publishing); a tree in memory has none.
    pub fn disk_path(&self, rel: &str) -> Result<PathBuf, ScaffolderError> {
        match self.store {
            Store::Disk(_) => Ok(self.path(rel)),
            Store::Memory(_) => Err(ScaffolderError::Internal(
                "this action needs a workspace on disk, and a dry-run has none".into(),
            )),
        }
    }

    /// `rel` inside the root, as Backstage's `resolveSafeChildPath`.
    pub fn resolve(&self, rel: &str) -> Result<String, ScaffolderError> {
        self.resolve_in("", rel)
    }

    /// `rel` inside `base` (a resolved, existing directory): `..` that climbs out of `base`, an
    /// absolute path elsewhere and, on disk, a path through a symlink whose target is outside
    /// `base` are refused with `NotAllowedError`.
    pub fn resolve_in(&self, base: &str, rel: &str) -> Result<String, ScaffolderError> {
        let base_path = self.path(base);
        let joined = normalize(&base_path.join(rel));
        if !joined.starts_with(&base_path) {
            return Err(escape());
        }
        let out = relative(&self.root, &joined);
        if let Store::Disk(disk) = &self.store {
            self.check_links(disk, base, &out)?;
        }
        Ok(out)
    }

    /// The deepest existing ancestor of `rel` (itself included), with symlinks resolved, must
    /// be inside `base` resolved — without a `canonicalize` of every path: a name that is not
    /// a symlink resolves where its directory does, so the walk goes up until it meets a
    /// symlink (resolved and compared), `base` itself, or a directory already known to have no
    /// symlink between it and the root.
    fn check_links(&self, disk: &Disk, base: &str, rel: &str) -> Result<(), ScaffolderError> {
        let mut seen_dirs = Vec::new();
        let mut probe = rel;
        loop {
            if disk
                .plain_dirs
                .lock()
                .expect("not poisoned")
                .contains(probe)
            {
                break;
            }
            let path = self.path(probe);
            match std::fs::symlink_metadata(&path) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    // A dangling symlink: where it points cannot be checked, so it is refused.
                    let real = path.canonicalize().map_err(|_| escape())?;
                    if !real.starts_with(self.path(base).canonicalize()?) {
                        return Err(escape());
                    }
                    return Ok(());
                }
                Ok(meta) => {
                    if meta.is_dir() {
                        seen_dirs.push(probe);
                    }
                    if probe.is_empty() {
                        break;
                    }
                    if probe == base {
                        // Above `base` is not this check's business; nothing to remember.
                        return Ok(());
                    }
                }
                // A missing `base`, which `canonicalize` would have reported.
                Err(e) if probe == base => return Err(e.into()),
                Err(_) => {}
            }
            match parent(probe) {
                Some(p) => probe = p,
                None => return Ok(()),
            }
        }
        // Reached the root or a plain directory through no symlink: all seen are plain too.
        let mut plain = disk.plain_dirs.lock().expect("not poisoned");
        plain.extend(seen_dirs.into_iter().map(str::to_owned));
        Ok(())
    }

    /// What `rel` is, without following a symlink.
    pub fn stat(&self, rel: &str) -> io::Result<Meta> {
        match &self.store {
            Store::Disk(_) => std::fs::symlink_metadata(self.path(rel)).map(|m| disk_meta(&m)),
            Store::Memory(tree) => {
                if rel.is_empty() {
                    return Ok(dir_meta());
                }
                let tree = tree.lock().expect("not poisoned");
                match tree.get(rel) {
                    Some(node) => Ok(node.meta()),
                    None => Err(io_err(io::ErrorKind::NotFound, "no such file", rel)),
                }
            }
        }
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.stat(rel).is_ok()
    }

    pub fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        match &self.store {
            Store::Disk(_) => std::fs::read(self.path(rel)),
            Store::Memory(tree) => match tree.lock().expect("not poisoned").get(rel) {
                Some(Node::File { bytes, .. }) => Ok(bytes.clone()),
                Some(Node::Dir) => Err(io_err(io::ErrorKind::IsADirectory, "a directory", rel)),
                None => Err(io_err(io::ErrorKind::NotFound, "no such file", rel)),
            },
        }
    }

    /// Writes a file, making its directories as needed. With a `mode`, the file gets exactly
    /// those permission bits; without, a new file gets the default and an old one keeps its own.
    pub fn write(&self, rel: &str, contents: &[u8], mode: Option<u32>) -> io::Result<()> {
        match &self.store {
            Store::Disk(_) => write_disk(&self.path(rel), contents, mode),
            Store::Memory(tree) => {
                let written = self
                    .written
                    .fetch_add(contents.len(), std::sync::atomic::Ordering::Relaxed);
                if written + contents.len() > MAX_MEMORY_BYTES {
                    return Err(io::Error::other(format!(
                        "a dry-run may write at most {} MiB of files in all; {rel} is past that",
                        MAX_MEMORY_BYTES / (1024 * 1024)
                    )));
                }
                let mut tree = tree.lock().expect("not poisoned");
                if rel.is_empty() || matches!(tree.get(rel), Some(Node::Dir)) {
                    return Err(io_err(io::ErrorKind::IsADirectory, "a directory", rel));
                }
                make_dirs(&mut tree, parent(rel).unwrap_or_default())?;
                let mode = mode
                    .map(|m| m & 0o777)
                    .unwrap_or_else(|| match tree.get(rel) {
                        Some(Node::File { mode, .. }) => *mode,
                        _ => DEFAULT_MODE,
                    });
                let bytes = contents.to_vec();
                tree.insert(rel.to_owned(), Node::File { bytes, mode });
                Ok(())
            }
        }
    }

    /// Makes `rel` and its missing parents; a directory already there is fine.
    pub fn create_dir_all(&self, rel: &str) -> io::Result<()> {
        match &self.store {
            Store::Disk(_) => std::fs::create_dir_all(self.path(rel)),
            Store::Memory(tree) => make_dirs(&mut tree.lock().expect("not poisoned"), rel),
        }
    }

    /// Removes a file, or a directory with everything under it.
    pub fn remove(&self, rel: &str) -> io::Result<()> {
        match &self.store {
            Store::Disk(disk) => {
                disk.forget_dirs();
                let path = self.path(rel);
                if path.is_dir() {
                    std::fs::remove_dir_all(path)
                } else {
                    std::fs::remove_file(path)
                }
            }
            Store::Memory(tree) => {
                let mut tree = tree.lock().expect("not poisoned");
                match tree.remove(rel) {
                    None => Err(io_err(io::ErrorKind::NotFound, "no such file", rel)),
                    Some(Node::File { .. }) => Ok(()),
                    Some(Node::Dir) => {
                        let inside = format!("{rel}/");
                        tree.retain(|k, _| !k.starts_with(&inside));
                        Ok(())
                    }
                }
            }
        }
    }

    /// Moves `from` to `to` (making `to`'s directory), with `rename(2)`'s rules: a file
    /// replaces a file, a directory replaces an empty directory, nothing else is replaced.
    pub fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        match &self.store {
            Store::Disk(disk) => {
                disk.forget_dirs();
                let dst = self.path(to);
                if let Some(p) = dst.parent() {
                    std::fs::create_dir_all(p)?;
                }
                std::fs::rename(self.path(from), dst)
            }
            Store::Memory(tree) => {
                let mut tree = tree.lock().expect("not poisoned");
                rename_memory(&mut tree, from, to)
            }
        }
    }

    /// Visits what is under `dir` (not `dir` itself) to `max_depth` levels, depth first with
    /// each directory's names in byte order, as `walkdir` sorted by file name does; symlinks
    /// are not followed. A `dir` that is missing or not a directory has nothing under it.
    /// `visit` returning `false` stops the walk.
    pub fn walk(
        &self,
        dir: &str,
        max_depth: usize,
        mut visit: impl FnMut(Entry) -> Result<bool, ScaffolderError>,
    ) -> Result<(), ScaffolderError> {
        match &self.store {
            Store::Disk(_) => {
                let top = self.path(dir);
                if !top.is_dir() {
                    return Ok(());
                }
                let walk = walkdir::WalkDir::new(&top)
                    .min_depth(1)
                    .max_depth(max_depth)
                    .sort_by_file_name();
                for e in walk {
                    let e = e.map_err(|e| ScaffolderError::Internal(e.to_string()))?;
                    let meta = e
                        .metadata()
                        .map_err(|e| ScaffolderError::Internal(e.to_string()))?;
                    let rel = relative(&top, e.path());
                    if !visit(Entry {
                        rel,
                        meta: disk_meta(&meta),
                    })? {
                        break;
                    }
                }
                Ok(())
            }
            Store::Memory(tree) => {
                // Listed under the lock, visited after it, so `visit` may read the tree.
                let mut entries: Vec<Entry> = {
                    let tree = tree.lock().expect("not poisoned");
                    if !dir.is_empty() && !matches!(tree.get(dir), Some(Node::Dir)) {
                        return Ok(());
                    }
                    let prefix = if dir.is_empty() {
                        String::new()
                    } else {
                        format!("{dir}/")
                    };
                    tree.range(prefix.clone()..)
                        .take_while(|(k, _)| k.starts_with(&prefix))
                        .map(|(k, node)| (&k[prefix.len()..], node))
                        .filter(|(rel, _)| rel.split('/').count() <= max_depth)
                        .map(|(rel, node)| Entry {
                            rel: rel.to_owned(),
                            meta: node.meta(),
                        })
                        .collect()
                };
                // Name by name, so a directory's contents follow it (`a/x` before `a-b`).
                entries.sort_by(|a, b| a.rel.split('/').cmp(b.rel.split('/')));
                for e in entries {
                    if !visit(e)? {
                        break;
                    }
                }
                Ok(())
            }
        }
    }
}

impl Disk {
    fn forget_dirs(&self) {
        self.plain_dirs.lock().expect("not poisoned").clear();
    }
}

impl Node {
    fn meta(&self) -> Meta {
        match self {
            Node::Dir => dir_meta(),
            Node::File { bytes, mode } => Meta {
                kind: Kind::File,
                len: bytes.len() as u64,
                mode: S_IFREG | mode,
            },
        }
    }
}

fn dir_meta() -> Meta {
    Meta {
        kind: Kind::Dir,
        len: 0,
        mode: S_IFDIR | 0o755,
    }
}

fn disk_meta(m: &std::fs::Metadata) -> Meta {
    use std::os::unix::fs::PermissionsExt;
    let ft = m.file_type();
    Meta {
        kind: if ft.is_symlink() {
            Kind::Symlink
        } else if ft.is_dir() {
            Kind::Dir
        } else {
            Kind::File
        },
        len: m.len(),
        mode: m.permissions().mode(),
    }
}

/// Writes a file on disk, trying the `open` first: its directory is made only when the open
/// finds it missing, so a skeleton's many files in one directory cost no `mkdir` each.
fn write_disk(path: &Path, contents: &[u8], mode: Option<u32>) -> io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let open = || {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create(true).truncate(true);
        if let Some(m) = mode {
            o.mode(m & 0o777);
        }
        o.open(path)
    };
    let mut f = match open() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(p) = path.parent() {
                std::fs::create_dir_all(p)?;
            }
            open()?
        }
        other => other?,
    };
    io::Write::write_all(&mut f, contents)?;
    // One `chmod` only when the umask (or an older file's bits) made them differ.
    if let Some(m) = mode
        && f.metadata()?.permissions().mode() & 0o777 != m & 0o777
    {
        f.set_permissions(std::fs::Permissions::from_mode(m & 0o777))?;
    }
    Ok(())
}

/// `rel` and its parents as directories in a memory tree; a file in the way is an error.
fn make_dirs(tree: &mut BTreeMap<String, Node>, rel: &str) -> io::Result<()> {
    let mut end = 0;
    while end < rel.len() {
        end = rel[end + 1..].find('/').map_or(rel.len(), |i| end + 1 + i);
        let dir = &rel[..end];
        match tree.get(dir) {
            Some(Node::Dir) => {}
            Some(Node::File { .. }) => {
                return Err(io_err(io::ErrorKind::AlreadyExists, "a file", dir));
            }
            None => {
                tree.insert(dir.to_owned(), Node::Dir);
            }
        }
    }
    Ok(())
}

fn rename_memory(tree: &mut BTreeMap<String, Node>, from: &str, to: &str) -> io::Result<()> {
    let is_dir = match tree.get(from) {
        None => return Err(io_err(io::ErrorKind::NotFound, "no such file", from)),
        Some(node) => matches!(node, Node::Dir),
    };
    if from == to {
        return Ok(());
    }
    let from_inside = format!("{from}/");
    if from.is_empty() || to.is_empty() || to.starts_with(&from_inside) {
        return Err(io_err(
            io::ErrorKind::InvalidInput,
            "cannot move into itself",
            to,
        ));
    }
    let to_inside = format!("{to}/");
    match tree.get(to) {
        Some(Node::Dir) if !is_dir => {
            return Err(io_err(io::ErrorKind::IsADirectory, "a directory", to));
        }
        Some(Node::File { .. }) if is_dir => {
            return Err(io_err(io::ErrorKind::NotADirectory, "not a directory", to));
        }
        Some(Node::Dir) if tree.keys().any(|k| k.starts_with(&to_inside)) => {
            return Err(io_err(io::ErrorKind::DirectoryNotEmpty, "not empty", to));
        }
        _ => {}
    }
    make_dirs(tree, parent(to).unwrap_or_default())?;
    let moved: Vec<String> = tree
        .keys()
        .filter(|k| *k == from || k.starts_with(&from_inside))
        .cloned()
        .collect();
    for k in moved {
        let node = tree.remove(&k).expect("listed above");
        tree.insert(format!("{to}{}", &k[from.len()..]), node);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both backings, the disk one in a fresh directory.
    fn both() -> (tempfile::TempDir, [Files; 2]) {
        let dir = tempfile::tempdir().unwrap();
        let disk = Files::disk(dir.path());
        (dir, [disk, Files::memory("/virtual/workspace")])
    }

    fn listing(files: &Files, dir: &str) -> Vec<(String, Kind, u64)> {
        let mut out = Vec::new();
        files
            .walk(dir, usize::MAX, |e| {
                let len = if e.meta.kind == Kind::File {
                    e.meta.len
                } else {
                    0
                };
                out.push((e.rel, e.meta.kind, len));
                Ok(true)
            })
            .unwrap();
        out
    }

    #[test]
    fn escapes_are_refused_the_same_in_memory_and_on_disk() {
        let (_dir, trees) = both();
        for files in &trees {
            assert_eq!(files.resolve("a/./b/../c.txt").unwrap(), "a/c.txt");
            assert_eq!(files.resolve("./").unwrap(), "");
            let inside = files.path("x/y");
            assert_eq!(files.resolve(inside.to_str().unwrap()).unwrap(), "x/y");
            files.create_dir_all("sub").unwrap();
            assert_eq!(files.resolve_in("sub", "a/../b").unwrap(), "sub/b");
            for (base, bad) in [
                ("", "../x"),
                ("", "a/../../x"),
                ("", "/etc/passwd"),
                ("sub", "../x"),
            ] {
                let err = files.resolve_in(base, bad).unwrap_err();
                assert_eq!(err.name(), "NotAllowedError", "{bad}");
                assert_eq!(err.to_string(), escape().to_string());
            }
        }
    }

    #[test]
    fn a_symlink_out_is_refused_on_disk_even_after_its_directory_was_checked() {
        let dir = tempfile::tempdir().unwrap();
        let files = Files::disk(dir.path());
        files.write("in/a.txt", b"a", None).unwrap();
        assert_eq!(files.resolve("in/b.txt").unwrap(), "in/b.txt");
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        assert_eq!(
            files.resolve("link/x").unwrap_err().name(),
            "NotAllowedError"
        );
        std::os::unix::fs::symlink(dir.path().join("in"), dir.path().join("ok")).unwrap();
        assert_eq!(files.resolve("ok/x").unwrap(), "ok/x");
        // `in` was remembered as plain; replacing it with a link out must be seen again.
        files.remove("in").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("in")).unwrap();
        assert_eq!(files.resolve("in/x").unwrap_err().name(), "NotAllowedError");
    }

    #[test]
    fn operations_agree_in_memory_and_on_disk() {
        let (_dir, trees) = both();
        let results: Vec<_> = trees
            .iter()
            .map(|files| {
                files
                    .write("a/b/run.sh", b"#!/bin/sh\n", Some(0o755))
                    .unwrap();
                files.write("a/b/x.txt", b"x", Some(0o644)).unwrap();
                files.write("a-b/y.txt", b"yy", None).unwrap();
                files.write("a/c.txt", b"c", None).unwrap();
                files.create_dir_all("empty/deeper").unwrap();
                assert!(files.write("a/b", b"no", None).is_err());
                assert!(files.write("a/c.txt/d", b"no", None).is_err());
                files.rename("a/b", "moved/b").unwrap();
                assert!(files.rename("a/c.txt", "moved").is_err());
                assert!(files.rename("nothing", "else").is_err());
                files.remove("empty").unwrap();
                assert!(files.remove("empty").is_err());
                let run = files.stat("moved/b/run.sh").unwrap();
                let x = files.stat("moved/b/x.txt").unwrap();
                (
                    listing(files, ""),
                    listing(files, "moved"),
                    listing(files, "a/c.txt"),
                    files.read("a-b/y.txt").unwrap(),
                    (run.mode & 0o777, x.mode & 0o777, files.exists("a/b")),
                )
            })
            .collect();
        assert_eq!(results[0], results[1]);
        let names: Vec<&str> = results[0].0.iter().map(|(r, ..)| r.as_str()).collect();
        assert_eq!(
            names,
            [
                "a",
                "a/c.txt",
                "a-b",
                "a-b/y.txt",
                "moved",
                "moved/b",
                "moved/b/run.sh",
                "moved/b/x.txt"
            ]
        );
    }
}
