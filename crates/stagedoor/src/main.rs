//! `stagedoor`: a Backstage-compatible developer portal in one binary.

mod config;
mod demo;
mod discover_cmd;
mod discovery_setup;
mod memory;
mod org_import_cmd;
mod publish_setup;
mod render_cmd;
mod validate_cmd;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

// Ingestion allocates and frees millions of small strings and maps. jemalloc, with a background
// thread purging freed memory (settings in .cargo/config.toml), was the fastest of glibc, mimalloc
// and jemalloc here and the only one to give most of a round's peak back: idle RSS at 23,000
// entities 109 MiB, against 158 MiB with mimalloc and 160 MiB with glibc.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "stagedoor",
    version,
    about = "A Backstage-compatible internal developer portal in one binary"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the catalog API (and portal) from the configured locations.
    Serve(ServeArgs),
    /// Check catalog files and print every problem as `file:line:column: message`.
    Validate(validate_cmd::ValidateArgs),
    /// Find git repositories under the given folders, say which are cataloged and propose a
    /// catalog-info.yaml for the others (`--write` commits each on a new branch).
    Discover(discover_cmd::DiscoverArgs),
    /// Import Users and Groups from the configured LDAP, Okta and GitHub org sources into the
    /// catalog (`--dry-run` shows what would be added, changed and removed, per field).
    OrgImport(org_import_cmd::OrgImportArgs),
    /// Render a template expression the way a template's steps do, to try it out
    /// (`stagedoor render '${{ parameters.name | lower }}' --context '{"parameters":{"name":"Web"}}'`).
    Render(render_cmd::RenderArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Config file: Stagedoor's own or a Backstage app-config.yaml (catalog.locations, catalog.rules,
    /// backend.reading.allow are read).
    #[arg(long, env = "STAGEDOOR_CONFIG")]
    config: Option<PathBuf>,
    /// Database URL: `sqlite://FILE`, `sqlite::memory:` or `postgres://user:pass@host/db`.
    #[arg(long, env = "STAGEDOOR_DB")]
    db: Option<String>,
    /// Address to listen on.
    #[arg(long, env = "STAGEDOOR_LISTEN")]
    listen: Option<String>,
    /// A location to read, repeatable: a file, glob, directory (searched for catalog-info.yaml) or URL.
    #[arg(long = "location", env = "STAGEDOOR_LOCATIONS", value_delimiter = ',')]
    locations: Vec<String>,
    /// Serve the built-in demo company (written to ./.stagedoor/demo, database ./.stagedoor/demo.db
    /// unless --db is given).
    #[arg(long)]
    demo: bool,
}

/// How long background work (a processing round) gets after the server has stopped.
const SHUTDOWN_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate(args) => std::process::exit(validate_cmd::run(&args)?),
        Command::Discover(args) => std::process::exit(discover_cmd::run(&args)?),
        Command::Render(args) => std::process::exit(render_cmd::run(&args)?),
        Command::OrgImport(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let code = runtime.block_on(org_import_cmd::run(args))?;
            runtime.shutdown_timeout(SHUTDOWN_WAIT);
            std::process::exit(code)
        }
        Command::Serve(args) => {
            init_logs();
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .on_thread_park(memory::release_thread_cache)
                .build()?;
            let result = runtime.block_on(serve(args));
            // Dropping the runtime would wait for a processing round running on a blocking
            // thread (a large catalog takes many seconds); the round is abandoned instead: its
            // database write is one transaction, and nothing unstored was ever published.
            runtime.shutdown_timeout(SHUTDOWN_WAIT);
            result
        }
    }
}

fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("STAGEDOOR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let json = std::env::var("STAGEDOOR_LOG_FORMAT").is_ok_and(|f| f == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init()
    } else {
        builder.init()
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut config = config::Config::load(args.config.as_deref())?;
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if args.demo {
        let dir = std::env::current_dir()?.join(".stagedoor/demo");
        let root = demo::extract(&dir).context("writing the demo catalog")?;
        config.catalog.locations.push((
            config::location("file", &root.to_string_lossy(), &dir),
            vec![],
        ));
        let repos = dir.with_file_name("demo-repos");
        discovery_setup::demo_repositories(&repos).context("writing the demo repositories")?;
        if config.discovery.sources.is_empty() {
            config.discovery.sources.push(repos);
        }
        if args.db.is_none() {
            config.db = format!("sqlite://{}", dir.with_file_name("demo.db").display());
        }
        // Demo templates publish new repositories beside the demo catalog (apart from the
        // repositories discovery scans, which are git repositories).
        config
            .scaffolder
            .publish_root
            .get_or_insert_with(|| dir.with_file_name("demo-created"));
        // publish:git creates its repositories where discovery looks, so they are cataloged.
        config
            .publishing
            .git_root
            .get_or_insert_with(|| dir.with_file_name("demo-repos"));
    }
    if let Some(db) = args.db {
        config.db = db;
    }
    for l in &args.locations {
        config
            .catalog
            .locations
            .push((config::location_arg(l), vec![]));
    }
    tracing::info!(config = ?config, "starting");
    let db = store::Db::connect(&config.db)
        .await
        .with_context(|| format!("opening database {}", config::redact_url(&config.db)))?;
    let catalog = catalog::Catalog::open(config.catalog.clone(), db).await?;
    tokio::spawn(Arc::clone(&catalog).run());
    scorecards::State::of(&catalog)
        .reload(catalog.database())
        .await
        .context("reading pushed scorecard facts")?;
    let progress = scorecards::Progress::of(&catalog);
    if args.demo {
        tokio::spawn(demo::seed_history(progress.clone(), Arc::clone(&catalog)));
    }
    tokio::spawn(progress.run(Arc::clone(&catalog)));
    let data_dir = std::env::current_dir()?.join(".stagedoor");
    if let Some(settings) = discovery_setup::settings(&config.discovery, &data_dir) {
        if args.demo {
            // The demo's repositories are part of its first page: scan them before serving.
            let state = discovery::State::of(&catalog);
            state.configure(settings.clone());
            state.sync_now(&catalog).await?;
        }
        tokio::spawn(discovery::run(Arc::clone(&catalog), settings));
    }
    // Org import: configured even without sources, so its API can say it has none.
    let org_dir = org_import_cmd::output_dir(&config.org, &data_dir)?;
    if config.org.sources.is_empty() {
        org::OrgImport::of(&catalog).configure(config.org.clone(), org_dir);
    } else {
        tokio::spawn(org::run(Arc::clone(&catalog), config.org.clone(), org_dir));
    }
    let docs_settings = docs::DocsSettings {
        allowed_hosts: config.catalog.allowed_hosts.clone(),
        ..config.docs.clone()
    };
    tokio::spawn(docs::Docs::of(&catalog).run(Arc::clone(&catalog), docs_settings));
    // The search index, built at once and after every catalog change, so queries never wait.
    tokio::spawn(search::run(Arc::clone(&catalog)));
    tokio::spawn(search::docs_feed::run(Arc::clone(&catalog)));
    tokio::spawn(memory::run(Arc::clone(&catalog)));
    let templates = scaffolder::Scaffolder::of(&catalog);
    templates.configure(config.scaffolder.clone());
    let publishing = scaffolder::publishing::Publishing::of(&catalog);
    publishing.configure(config.publishing.clone());
    publishing.after_git_publish(publish_setup::discovery_hook(&catalog));
    let interrupted = scaffolder::Scaffolder::recover(&catalog)
        .await
        .context("recovering scaffolder tasks")?;
    if interrupted > 0 {
        tracing::warn!(
            interrupted,
            "scaffolder tasks left running by the last run marked failed"
        );
    }
    let usage = analytics::Recorder::of(&catalog);
    let mut usage_settings = config.analytics.clone();
    if args.demo {
        // The demo's teams have 3–4 people: at the default k-threshold every team would be
        // withheld. The dashboard shows the threshold in use.
        usage_settings.k_threshold = usage_settings
            .k_threshold
            .min(analytics::demo::DEMO_K_THRESHOLD);
    }
    usage.configure(usage_settings);
    if args.demo {
        tokio::spawn(demo::seed_usage(usage.clone(), Arc::clone(&catalog)));
    }
    tokio::spawn(usage.run());

    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    web::serve(listener, web::AppState { catalog }, shutdown_signal()).await?;
    tracing::info!("stopped accepting requests; exiting");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
