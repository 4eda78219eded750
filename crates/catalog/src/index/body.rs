//! Entity bodies as held in memory: zstd-compressed with one dictionary per process, trained on
//! the first large batch of bodies, and decompressed on read.
//!
//! Stitched JSON is the largest share of the catalog's memory (about 1.3 KB per entity, 600 MB
//! at 470,000 entities). Entities repeat most of their bytes — key names, annotation names,
//! relation types, owners — so one small shared dictionary compresses each body on its own to a
//! fraction, while every body stays independently readable (no block to unpack for one entity).
//! Bodies made before a dictionary exists are kept as plain text; they read the same.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::OnceLock;

use zstd::bulk::{Compressor, Decompressor};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

/// Fewer bodies than this make a poor dictionary; they stay plain until a larger batch comes.
pub const TRAIN_MIN: usize = 512;
/// Bodies sampled (evenly across the batch) to train the dictionary: enough to see every kind.
pub const TRAIN_SAMPLES: usize = 2_000;
/// Dictionary size: measured ratio flattens beyond this for catalog JSON.
const DICT_BYTES: usize = 64 * 1024;
/// zstd level: 3 compresses a 1.3 KB body in a few microseconds with the dictionary.
const LEVEL: i32 = 3;
/// Batches at least this large are compressed on every core.
const PARALLEL_MIN: usize = 4_096;

struct Dict {
    encoder: EncoderDictionary<'static>,
    decoder: DecoderDictionary<'static>,
}

static DICT: OnceLock<Dict> = OnceLock::new();

thread_local! {
    // Contexts are costly to create (hundreds of KB each); one per thread is reused.
    static COMPRESSOR: RefCell<Option<Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<Decompressor<'static>>> = const { RefCell::new(None) };
}

/// One entity's final JSON text, stored compressed when a dictionary exists.
#[derive(Clone)]
pub struct Body(Repr);

#[derive(Clone)]
enum Repr {
    Plain(Box<str>),
    Packed { len: u32, bytes: Box<[u8]> },
}

impl Body {
    /// Stores `text`, compressed if the process has a dictionary.
    pub fn new(text: &str) -> Body {
        match DICT.get() {
            Some(dict) => pack(dict, text),
            None => Body(Repr::Plain(text.into())),
        }
    }

    /// Stores a batch; trains the process's dictionary on it first when there is none yet and
    /// the batch is large enough to teach one.
    pub fn new_all<S: AsRef<str> + Sync>(texts: &[S]) -> Vec<Body> {
        train(texts);
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 8);
        if workers == 1 || texts.len() < PARALLEL_MIN {
            return texts.iter().map(|t| Body::new(t.as_ref())).collect();
        }
        let chunk = texts.len().div_ceil(workers);
        std::thread::scope(|scope| {
            let handles: Vec<_> = texts
                .chunks(chunk)
                .map(|c| scope.spawn(move || c.iter().map(|t| Body::new(t.as_ref())).collect()))
                .collect();
            handles
                .into_iter()
                .flat_map(|h: std::thread::ScopedJoinHandle<'_, Vec<Body>>| {
                    h.join().expect("compression does not panic")
                })
                .collect()
        })
    }

    /// The JSON text: borrowed when plain, decompressed (a few microseconds) when packed.
    pub fn text(&self) -> Cow<'_, str> {
        match &self.0 {
            Repr::Plain(s) => Cow::Borrowed(s),
            Repr::Packed { len, bytes } => Cow::Owned(unpack(bytes, *len as usize)),
        }
    }

    /// Length of the JSON text in bytes.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Plain(s) => s.len(),
            Repr::Packed { len, .. } => *len as usize,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes this body holds.
    pub fn heap_bytes(&self) -> usize {
        match &self.0 {
            Repr::Plain(s) => s.len(),
            Repr::Packed { bytes, .. } => bytes.len(),
        }
    }
}

/// Whether the process has its dictionary yet.
pub fn trained() -> bool {
    DICT.get().is_some()
}

/// Trains the process's dictionary on bodies sampled evenly from `texts` (a no-op once
/// trained, or with fewer than [`TRAIN_MIN`] texts). Callers whose batches come in an order
/// that groups kinds (the engine stitches users before components) train on a sample of the
/// whole catalog first.
pub fn train<S: AsRef<str>>(texts: &[S]) {
    if DICT.get().is_some() || texts.len() < TRAIN_MIN {
        return;
    }
    let step = (texts.len() / TRAIN_SAMPLES).max(1);
    let samples: Vec<&[u8]> = texts
        .iter()
        .step_by(step)
        .map(|t| t.as_ref().as_bytes())
        .collect();
    let started = std::time::Instant::now();
    // Training fails on degenerate input (say, all bodies identical); plain text is the fallback.
    let Ok(raw) = zstd::dict::from_samples(&samples, DICT_BYTES) else {
        tracing::debug!("zstd dictionary training failed; bodies stay uncompressed");
        return;
    };
    tracing::info!(
        samples = samples.len(),
        dict_bytes = raw.len(),
        ms = started.elapsed().as_millis() as u64,
        "trained the entity body dictionary"
    );
    let _ = DICT.set(Dict {
        encoder: EncoderDictionary::copy(&raw, LEVEL),
        decoder: DecoderDictionary::copy(&raw),
    });
}

fn pack(dict: &'static Dict, text: &str) -> Body {
    let packed = COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = Compressor::with_prepared_dictionary(&dict.encoder).ok();
        }
        c.as_mut()?.compress(text.as_bytes()).ok()
    });
    match packed {
        Some(bytes) if text.len() <= u32::MAX as usize => Body(Repr::Packed {
            len: text.len() as u32,
            bytes: bytes.into_boxed_slice(),
        }),
        _ => Body(Repr::Plain(text.into())),
    }
}

fn unpack(bytes: &[u8], len: usize) -> String {
    let dict = DICT.get().expect("a packed body implies a dictionary");
    let out = DECOMPRESSOR.with(|d| {
        let mut d = d.borrow_mut();
        if d.is_none() {
            *d = Decompressor::with_prepared_dictionary(&dict.decoder).ok();
        }
        d.as_mut()?.decompress(bytes, len).ok()
    });
    // Our own compressed bytes, in memory: failing to read them back is a bug, not input.
    let out = out.expect("a packed body decompresses");
    String::from_utf8(out).expect("a packed body is the UTF-8 text it was made from")
}

impl PartialEq for Body {
    fn eq(&self, other: &Self) -> bool {
        self.text() == other.text()
    }
}

impl Eq for Body {}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.text(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(i: usize) -> String {
        format!(
            r#"{{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{{"name":"svc-{i}","annotations":{{"backstage.io/managed-by-location":"file:/catalog/systems/s{}/catalog-info.yaml"}}}},"spec":{{"type":"service","owner":"team-{}"}},"relations":[{{"type":"ownedBy","targetRef":"group:default/team-{}"}}]}}"#,
            i % 40,
            i % 17,
            i % 17
        )
    }

    #[test]
    fn bodies_read_back_byte_for_byte_and_compress_once_trained() {
        let texts: Vec<String> = (0..TRAIN_MIN * 2).map(body).collect();
        let bodies = Body::new_all(&texts);
        for (t, b) in texts.iter().zip(&bodies) {
            assert_eq!(b.text(), t.as_str());
            assert_eq!(b.len(), t.len());
        }
        let raw: usize = texts.iter().map(String::len).sum();
        let held: usize = bodies.iter().map(Body::heap_bytes).sum();
        assert!(held * 3 < raw, "held {held} of {raw} bytes");
        // A body made later, one at a time, uses the same dictionary.
        let late = Body::new("{\"kind\":\"Ünïcode\",\"x\":[]}");
        assert_eq!(late.text(), "{\"kind\":\"Ünïcode\",\"x\":[]}");
        assert_eq!(late, Body::new("{\"kind\":\"Ünïcode\",\"x\":[]}"));
    }
}
