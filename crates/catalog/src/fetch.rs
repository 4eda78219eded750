//! URL reads for processing rounds: at most [`CONCURRENT_READS`] at once, and in the background
//! for URLs read before, so that a slow host delays its own entities, never a round (and with
//! it every file edit and API write).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use crate::source::{ReadError, UrlReader};

/// URL reads running at once, in the background and for rounds together.
pub const CONCURRENT_READS: usize = 8;

type Outcome = Result<String, ReadError>;

#[derive(Default)]
struct Background {
    running: HashSet<String>,
    finished: HashMap<String, Outcome>,
}

#[derive(Clone)]
pub struct Fetcher {
    reader: UrlReader,
    permits: Arc<Semaphore>,
    background: Arc<Mutex<Background>>,
}

impl Fetcher {
    pub fn new(reader: UrlReader) -> Self {
        Self {
            reader,
            permits: Arc::new(Semaphore::new(CONCURRENT_READS)),
            background: Arc::default(),
        }
    }

    async fn read(reader: &UrlReader, permits: &Semaphore, url: &str) -> Outcome {
        let _permit = permits
            .acquire()
            .await
            .expect("the semaphore is never closed");
        reader.read(url).await
    }

    /// Reads every URL now, concurrently within the bound; results in the order given.
    pub async fn read_all(&self, urls: &[&str]) -> Vec<Outcome> {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, url) in urls.iter().enumerate() {
            let (reader, permits, url) =
                (self.reader.clone(), self.permits.clone(), url.to_string());
            tasks.spawn(async move { (i, Self::read(&reader, &permits, &url).await) });
        }
        let mut out: Vec<Option<Outcome>> = vec![None; urls.len()];
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((i, outcome)) => out[i] = Some(outcome),
                Err(e) => tracing::error!(error = %e, "URL read task failed"),
            }
        }
        out.into_iter()
            .zip(urls)
            .map(|(o, url)| {
                o.unwrap_or_else(|| Err(ReadError::NotFound(format!("could not read {url}"))))
            })
            .collect()
    }

    /// Starts reading `url` in the background unless that is already under way; the outcome
    /// waits for [`Fetcher::take`].
    pub fn start(&self, url: &str) {
        if !self.lock().running.insert(url.to_owned()) {
            return;
        }
        let this = self.clone();
        let url = url.to_owned();
        tokio::spawn(async move {
            let outcome = Self::read(&this.reader, &this.permits, &url).await;
            let mut b = this.lock();
            b.running.remove(&url);
            b.finished.insert(url, outcome);
        });
    }

    /// Reads every URL now, like [`Fetcher::read_all`], keeping the outcomes for
    /// [`Fetcher::take`].
    pub async fn read_ahead(&self, urls: &[&str]) {
        let outcomes = self.read_all(urls).await;
        let mut b = self.lock();
        for (url, outcome) in urls.iter().zip(outcomes) {
            b.finished.insert(url.to_string(), outcome);
        }
    }

    /// The outcome of a finished read of `url`, once.
    pub fn take(&self, url: &str) -> Option<Outcome> {
        self.lock().finished.remove(url)
    }

    /// Drops finished reads of URLs no round reaches any more.
    pub fn retain(&self, keep: impl Fn(&str) -> bool) {
        self.lock().finished.retain(|url, _| keep(url));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Background> {
        self.background.lock().expect("fetcher lock")
    }
}
