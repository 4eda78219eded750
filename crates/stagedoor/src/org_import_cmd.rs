//! `stagedoor org-import`: reads the configured org sources (LDAP, Okta, GitHub teams), shows
//! what would be added, changed and removed in the catalog, per field, and (unless
//! `--dry-run`) writes each source's generated file and registers it in the configured
//! database, where `stagedoor serve` reads it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use org::{Change, Report};
use serde_json::Value;

#[derive(clap::Args)]
pub struct OrgImportArgs {
    /// Config file with the org sources (`ldap.providers`, `catalog.providers.ldapOrg`,
    /// `catalog.providers.okta`, `catalog.providers.githubOrg`; see docs/configuration.md).
    #[arg(long, env = "STAGEDOOR_CONFIG")]
    config: Option<PathBuf>,
    /// Database URL (as for `serve`): the catalog compared with, and written to.
    #[arg(long, env = "STAGEDOOR_DB")]
    db: Option<String>,
    /// Only show what would change; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Output format: `json` prints the whole report as one JSON object.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Where the generated files go: `orgImport.outputDir`, else `org-import` in the data
/// directory; always absolute, because it becomes a `file` location's target.
pub fn output_dir(settings: &org::Settings, data_dir: &Path) -> anyhow::Result<PathBuf> {
    let dir = settings
        .output_dir
        .clone()
        .unwrap_or_else(|| data_dir.join("org-import"));
    let dir = if dir.is_absolute() {
        dir
    } else {
        std::env::current_dir()?.join(dir)
    };
    Ok(catalog::settings::normalize(&dir))
}

/// Returns the exit code: 0 when every source was read (and written), 1 otherwise.
pub async fn run(args: OrgImportArgs) -> anyhow::Result<i32> {
    let mut config = crate::config::Config::load(args.config.as_deref())?;
    if let Some(db) = args.db {
        config.db = db;
    }
    if config.org.sources.is_empty() {
        anyhow::bail!(
            "no org import source is configured (ldap.providers, catalog.providers.ldapOrg, \
             catalog.providers.okta or catalog.providers.githubOrg; see docs/configuration.md)"
        );
    }
    let db = store::Db::connect(&config.db)
        .await
        .with_context(|| format!("opening database {}", crate::config::redact_url(&config.db)))?;
    let catalog = catalog::Catalog::open(config.catalog.clone(), db).await?;
    let dir = output_dir(&config.org, &std::env::current_dir()?.join(".stagedoor"))?;
    let report = org::import(&catalog, &config.org, &dir, args.dry_run).await;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Text => print_text(&report),
    }
    Ok(i32::from(report.sources.iter().any(|s| s.failed.is_some())))
}

fn value(v: &Option<Value>) -> String {
    v.as_ref().map_or("(none)".into(), Value::to_string)
}

fn print_change(sign: char, c: &Change) {
    println!("  {sign} {}", c.entity_ref);
    for f in &c.fields {
        match sign {
            '+' => println!("      {}: {}", f.field, value(&f.after)),
            '-' => println!("      {}: {}", f.field, value(&f.before)),
            _ => println!(
                "      {}: {} -> {}",
                f.field,
                value(&f.before),
                value(&f.after)
            ),
        }
    }
}

fn print_text(report: &Report) {
    for s in &report.sources {
        println!("source {} ({}) -> {}", s.id, s.kind, s.file);
        if let Some(e) = &s.failed {
            println!("  failed: {e}");
            continue;
        }
        println!("  {} users, {} groups", s.users, s.groups);
        for c in &s.added {
            print_change('+', c);
        }
        for c in &s.changed {
            print_change('~', c);
        }
        for c in &s.removed {
            print_change('-', c);
        }
        for e in &s.errors {
            println!("  ! {e}");
        }
        println!(
            "  {} added, {} changed, {} removed, {} unchanged, {} left out{}",
            s.added.len(),
            s.changed.len(),
            s.removed.len(),
            s.unchanged,
            s.errors.len(),
            if report.dry_run {
                "; dry run: nothing written"
            } else if s.written {
                "; written"
            } else {
                "; file unchanged"
            }
        );
    }
}
