//! One entity's docs build: `mkdocs.yml` read, the docs folder listed, every Markdown page
//! rendered, the nav laid out, and every problem kept with its file and line. A build reuses the
//! pages of the previous one whose file did not change (incremental), and a folder whose files
//! all look unchanged (`stat`: size and modification time) is not rebuilt at all.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use crate::markdown::{self, Heading, LinkContext};
use crate::mkdocs::{self, NavEntry};
use crate::paths;

/// Bounds on what one site may hold (hostile or mistaken repositories).
pub const MAX_FILES: usize = 5_000;
pub const MAX_PAGES: usize = 2_000;
pub const MAX_PAGE_BYTES: u64 = 1024 * 1024;
pub const MAX_CONFIG_BYTES: u64 = 256 * 1024;
const MAX_DEPTH: usize = 16;

/// Where a site's pages and files are served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Urls {
    /// The reader URL of the root page, ending in `/` (`/docs/default/component/x/`).
    pub pages: String,
    /// The URL the docs folder's files are served under, ending in `/`.
    pub assets: String,
}

impl Urls {
    /// Backstage's routes for an entity: the reader at `/docs/{namespace}/{kind}/{name}/` and
    /// the static files at `/api/techdocs/static/docs/{namespace}/{kind}/{name}/`, lower case as
    /// Backstage writes them by default.
    pub fn for_entity(namespace: &str, kind: &str, name: &str) -> Self {
        let triplet = format!(
            "{}/{}/{}",
            namespace.to_lowercase(),
            kind.to_lowercase(),
            name.to_lowercase()
        );
        Urls {
            pages: format!("/docs/{triplet}/"),
            assets: format!("/api/techdocs/static/docs/{triplet}/"),
        }
    }
}

/// A fault in a docs source, at a file (relative to the folder holding `mkdocs.yml`) and line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// A file's size and modification time: what says it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileSig {
    pub len: u64,
    pub modified: Option<SystemTime>,
}

impl FileSig {
    fn of(meta: &std::fs::Metadata) -> Self {
        FileSig {
            len: meta.len(),
            modified: meta.modified().ok(),
        }
    }
}

/// A rendered page.
#[derive(Debug, Clone)]
pub struct Page {
    /// Path inside the docs folder (`guide/setup.md`).
    pub path: String,
    /// Reader route below the site's root (`guide/setup/`; `` for the root page).
    pub route: String,
    /// Reader URL (`/docs/default/component/x/guide/setup/`).
    pub url: String,
    pub title: String,
    /// Sanitised HTML.
    pub html: String,
    pub headings: Vec<Heading>,
    /// The page's words without markup.
    pub text: String,
    /// Broken links and images of this page.
    pub problems: Vec<Problem>,
    sig: FileSig,
}

/// An entry of the site's navigation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NavNode {
    pub title: String,
    /// Reader URL of a page, or an external URL; `None` for a section.
    pub url: Option<String>,
    /// The page's path in the docs folder, when the entry is a page.
    pub page: Option<String>,
    pub children: Vec<NavNode>,
}

/// A built docs site.
#[derive(Debug)]
pub struct Site {
    pub site_name: String,
    pub urls: Urls,
    pub nav: Vec<NavNode>,
    /// Every page, in nav order, then the pages outside the nav by path.
    pub pages: Vec<Arc<Page>>,
    /// Problems of the whole build: `mkdocs.yml` faults and every page's broken links.
    pub problems: Vec<Problem>,
    /// When a source file last changed (the newest modification time): the docs' freshness.
    pub source_changed: Option<SystemTime>,
    pub built_at: SystemTime,
    /// Pages rendered in this build (the others were kept from the previous build).
    pub rendered: usize,
    /// The canonical docs folder: files are served from here only.
    docs_root: PathBuf,
    by_route: HashMap<String, usize>,
    /// Everything the build read, with its signature: unchanged means nothing to do.
    inputs: Vec<(String, FileSig)>,
    /// Context every page's links were resolved in (site files, config); pages are reused only
    /// when it is the same.
    context_key: u64,
}

impl Site {
    /// The page at a reader route (`guide/setup/`, with or without the trailing slash).
    pub fn page(&self, route: &str) -> Option<&Arc<Page>> {
        let route = route.trim_start_matches('/');
        let key = if route.is_empty() || route.ends_with('/') {
            route.to_owned()
        } else {
            format!("{route}/")
        };
        self.by_route.get(&key).map(|&i| &self.pages[i])
    }

    /// The real path of a file of the docs folder, refused outside it (see [`paths::inside`]).
    pub fn asset(&self, rel: &str) -> Result<PathBuf, paths::Refused> {
        paths::inside(&self.docs_root, rel)
    }
}

/// Why a build produced no site (the previous one, if any, stays served).
pub type BuildError = Problem;

/// Builds the docs in `root` (the folder holding `mkdocs.yml`), reusing `previous` where its
/// inputs did not change. Returns `previous` itself when nothing changed.
pub fn build(
    root: &Path,
    urls: &Urls,
    default_name: &str,
    previous: Option<&Arc<Site>>,
) -> Result<Arc<Site>, BuildError> {
    let fail = |file: &str, line: Option<usize>, message: String| Problem {
        file: file.to_owned(),
        line,
        message,
    };
    // One `stat` per candidate: this runs for every documented entity on every watch pass.
    let (config_name, config_path, config_meta) = ["mkdocs.yml", "mkdocs.yaml"]
        .iter()
        .find_map(|n| {
            let path = root.join(n);
            let meta = std::fs::metadata(&path).ok()?;
            meta.is_file().then_some((*n, path, meta))
        })
        .ok_or_else(|| {
            fail(
                "mkdocs.yml",
                None,
                format!("no mkdocs.yml in {}", root.display()),
            )
        })?;
    if config_meta.len() > MAX_CONFIG_BYTES {
        return Err(fail(
            config_name,
            None,
            format!("larger than {MAX_CONFIG_BYTES} bytes"),
        ));
    }
    let config_sig = FileSig::of(&config_meta);

    // A quick look first: when the config and every file look as they did, keep the build.
    if let Some(prev) = previous
        && prev.inputs.first() == Some(&(config_name.to_owned(), config_sig))
        && let Ok(files) = list(&prev.docs_root)
        && files.len() + 1 == prev.inputs.len()
        && files
            .iter()
            .zip(&prev.inputs[1..])
            .all(|((p, s), (pp, ps))| p == pp && s == ps)
    {
        return Ok(prev.clone());
    }

    let text = std::fs::read_to_string(&config_path)
        .map_err(|e| fail(config_name, None, format!("cannot read: {e}")))?;
    let (config, config_problems) =
        mkdocs::parse(&text).map_err(|p| fail(config_name, Some(p.line), p.message))?;
    let real_root = root
        .canonicalize()
        .map_err(|e| fail(config_name, None, format!("cannot open the folder: {e}")))?;
    let docs_root = real_root
        .join(&config.docs_dir)
        .canonicalize()
        .map_err(|_| {
            fail(
                config_name,
                None,
                format!("docs_dir {:?} does not exist", config.docs_dir),
            )
        })?;
    if !docs_root.starts_with(&real_root) || !docs_root.is_dir() {
        return Err(fail(
            config_name,
            None,
            format!(
                "docs_dir {:?} is not a folder inside {}",
                config.docs_dir,
                root.display()
            ),
        ));
    }
    let files = list(&docs_root).map_err(|e| fail(&config.docs_dir, None, e))?;
    let file_set: HashSet<String> = files.iter().map(|(p, _)| p.clone()).collect();

    let mut problems: Vec<Problem> = config_problems
        .into_iter()
        .map(|p| fail(config_name, Some(p.line), p.message))
        .collect();

    let context_key = {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        files.iter().for_each(|(p, _)| p.hash(&mut h));
        urls.pages.hash(&mut h);
        urls.assets.hash(&mut h);
        h.finish()
    };
    let reusable: HashMap<&str, &Arc<Page>> = match previous {
        Some(prev) if prev.context_key == context_key => {
            prev.pages.iter().map(|p| (p.path.as_str(), p)).collect()
        }
        _ => HashMap::new(),
    };

    let md: Vec<&(String, FileSig)> = files.iter().filter(|(p, _)| is_markdown(p)).collect();
    if md.len() > MAX_PAGES {
        problems.push(fail(
            &config.docs_dir,
            None,
            format!(
                "{} Markdown files; only the first {MAX_PAGES} are built",
                md.len()
            ),
        ));
    }
    let mut rendered_count = 0;
    let mut pages: HashMap<String, Arc<Page>> = HashMap::new();
    for (path, sig) in md.into_iter().take(MAX_PAGES) {
        let file_label = format!("{}/{path}", config.docs_dir);
        if let Some(prev) = reusable.get(path.as_str())
            && prev.sig == *sig
        {
            pages.insert(path.clone(), Arc::clone(prev));
            continue;
        }
        if sig.len > MAX_PAGE_BYTES {
            problems.push(fail(
                &file_label,
                None,
                format!("larger than {MAX_PAGE_BYTES} bytes; not built"),
            ));
            continue;
        }
        let Ok(real) = paths::inside(&docs_root, path) else {
            continue;
        };
        let source = match std::fs::read(&real) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => {
                problems.push(fail(&file_label, None, format!("cannot read: {e}")));
                continue;
            }
        };
        let ctx = LinkContext {
            page: path,
            files: &file_set,
            page_base: &urls.pages,
            asset_base: &urls.assets,
        };
        let out = markdown::render(&source, &ctx);
        rendered_count += 1;
        let route = paths::route(path);
        pages.insert(
            path.clone(),
            Arc::new(Page {
                url: format!("{}{route}", urls.pages),
                route,
                path: path.clone(),
                title: out.title.unwrap_or_else(|| title_from_path(path)),
                html: out.html,
                headings: out.headings,
                text: out.text,
                problems: out
                    .problems
                    .into_iter()
                    .map(|(line, message)| fail(&file_label, Some(line), message))
                    .collect(),
                sig: *sig,
            }),
        );
    }

    // Nav: mkdocs.yml's, or the folder's Markdown files (index first, folders as sections).
    let nav = match &config.nav {
        Some(entries) => nav_from_config(entries, &pages, config_name, &mut problems),
        None => nav_from_files(&pages),
    };
    let mut ordered: Vec<Arc<Page>> = Vec::with_capacity(pages.len());
    let mut seen = HashSet::new();
    collect_pages(&nav, &pages, &mut seen, &mut ordered);
    let mut rest: Vec<&Arc<Page>> = pages
        .values()
        .filter(|p| !seen.contains(p.path.as_str()))
        .collect();
    rest.sort_by(|a, b| a.path.cmp(&b.path));
    ordered.extend(rest.into_iter().cloned());
    for page in &ordered {
        problems.extend(page.problems.iter().cloned());
    }
    let by_route = ordered
        .iter()
        .enumerate()
        .map(|(i, p)| (p.route.clone(), i))
        .collect();
    let source_changed = std::iter::once(config_sig.modified)
        .chain(files.iter().map(|(_, s)| s.modified))
        .flatten()
        .max();
    let mut inputs = Vec::with_capacity(files.len() + 1);
    inputs.push((config_name.to_owned(), config_sig));
    inputs.extend(files);
    Ok(Arc::new(Site {
        site_name: config.site_name.unwrap_or_else(|| default_name.to_owned()),
        urls: urls.clone(),
        nav,
        pages: ordered,
        problems,
        source_changed,
        built_at: SystemTime::now(),
        rendered: rendered_count,
        docs_root,
        by_route,
        inputs,
        context_key,
    }))
}

fn is_markdown(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".md") || lower.ends_with(".markdown")
}

/// Every regular file under `root` (relative, `/`-separated, sorted), with its signature.
/// Hidden entries are skipped; symlinks are followed only when they stay inside `root`.
fn list(root: &Path) -> Result<Vec<(String, FileSig)>, String> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), String::new(), 0usize)];
    while let Some((dir, prefix, depth)) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("cannot list: {e}"))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            // The entry's type comes with the listing: folders need no `stat` of their own.
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                if depth < MAX_DEPTH {
                    stack.push((path, format!("{prefix}{name}/"), depth + 1));
                }
                continue;
            }
            let Ok(mut meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.file_type().is_symlink() {
                match path.canonicalize() {
                    Ok(real) if real.starts_with(root) => match std::fs::metadata(&real) {
                        Ok(m) => meta = m,
                        Err(_) => continue,
                    },
                    // Out of the docs folder (or dangling): not part of the site.
                    _ => continue,
                }
            }
            let rel = format!("{prefix}{name}");
            if meta.is_dir() {
                if depth < MAX_DEPTH {
                    stack.push((path, format!("{rel}/"), depth + 1));
                }
            } else if meta.is_file() {
                out.push((rel, FileSig::of(&meta)));
                if out.len() > MAX_FILES {
                    return Err(format!("more than {MAX_FILES} files in the docs folder"));
                }
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn nav_from_config(
    entries: &[NavEntry],
    pages: &HashMap<String, Arc<Page>>,
    config_name: &str,
    problems: &mut Vec<Problem>,
) -> Vec<NavNode> {
    entries
        .iter()
        .filter_map(|e| match e {
            NavEntry::Page { title, path, line } => match pages.get(path) {
                Some(page) => Some(NavNode {
                    title: title.clone().unwrap_or_else(|| page.title.clone()),
                    url: Some(page.url.clone()),
                    page: Some(page.path.clone()),
                    children: Vec::new(),
                }),
                None => {
                    problems.push(Problem {
                        file: config_name.to_owned(),
                        line: Some(*line),
                        message: format!("nav names {path}, which is not in the docs folder"),
                    });
                    None
                }
            },
            NavEntry::Link { title, url } => Some(NavNode {
                title: title.clone(),
                url: Some(url.clone()),
                page: None,
                children: Vec::new(),
            }),
            NavEntry::Section { title, children } => Some(NavNode {
                title: title.clone(),
                url: None,
                page: None,
                children: nav_from_config(children, pages, config_name, problems),
            }),
        })
        .collect()
}

/// MkDocs' nav without `nav:`: a folder's index/README first, then its pages by name, then its
/// sub-folders as sections.
fn nav_from_files(pages: &HashMap<String, Arc<Page>>) -> Vec<NavNode> {
    let mut paths: Vec<&str> = pages.keys().map(String::as_str).collect();
    paths.sort();
    nav_of_dir("", &paths, pages)
}

fn nav_of_dir(prefix: &str, paths: &[&str], pages: &HashMap<String, Arc<Page>>) -> Vec<NavNode> {
    let mut here: Vec<&str> = Vec::new();
    let mut dirs: Vec<&str> = Vec::new();
    for p in paths {
        let Some(rest) = p.strip_prefix(prefix) else {
            continue;
        };
        match rest.split_once('/') {
            None => here.push(p),
            Some((dir, _)) => {
                if dirs.last() != Some(&dir) {
                    dirs.push(dir);
                }
            }
        }
    }
    let is_index = |p: &&str| {
        let file = p.rsplit('/').next().unwrap_or(p).to_ascii_lowercase();
        file == "index.md" || file == "readme.md"
    };
    here.sort_by_key(|p| (!is_index(p), p.to_string()));
    let mut out: Vec<NavNode> = here
        .iter()
        .map(|p| {
            let page = &pages[*p];
            NavNode {
                title: page.title.clone(),
                url: Some(page.url.clone()),
                page: Some(page.path.clone()),
                children: Vec::new(),
            }
        })
        .collect();
    for dir in dirs {
        let children = nav_of_dir(&format!("{prefix}{dir}/"), paths, pages);
        if !children.is_empty() {
            out.push(NavNode {
                title: title_from_path(dir),
                url: None,
                page: None,
                children,
            });
        }
    }
    out
}

fn collect_pages<'a>(
    nav: &'a [NavNode],
    pages: &HashMap<String, Arc<Page>>,
    seen: &mut HashSet<&'a str>,
    out: &mut Vec<Arc<Page>>,
) {
    for node in nav {
        if let Some(path) = &node.page
            && seen.insert(path.as_str())
            && let Some(page) = pages.get(path)
        {
            out.push(page.clone());
        }
        collect_pages(&node.children, pages, seen, out);
    }
}

/// `getting-started.md` → `Getting started`.
fn title_from_path(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file
        .strip_suffix(".md")
        .or_else(|| file.strip_suffix(".markdown"))
        .unwrap_or(file);
    let words = stem.replace(['-', '_'], " ");
    let mut c = words.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
