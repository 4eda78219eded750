//! Entity bodies as held in memory: zstd-compressed with one dictionary per process, trained on
//! the first large batch of bodies, and decompressed on read.
//!
//! Stitched JSON is the largest share of the catalog's memory (about 1.3 KB per entity, 600 MB
//! at 470,000 entities). Entities repeat most of their bytes — key names, annotation names,
//! relation types, owners — so one small shared dictionary compresses each body on its own to a
//! fraction, while every body stays independently readable (no block to unpack for one entity).
//! Bodies made before a dictionary exists are kept as plain text; they read the same.
//!
//! What no dictionary can compress is left out: an entity's uid (random) and etag (a hash) were
//! a quarter of every compressed body, and its [`crate::read::Stitched`] holds both anyway. A body
//! keeps zeros in their place ([`punch`]) and its owner writes them back on read
//! ([`Body::text_with`]).

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::OnceLock;

use zstd::bulk::{Compressor, Decompressor};
use zstd::dict::{DecoderDictionary, EncoderDictionary};
use zstd::zstd_safe::{CParameter, DParameter, FrameFormat};

/// Fewer bodies than this make a poor dictionary; they stay plain until a larger batch comes.
pub const TRAIN_MIN: usize = 512;
/// Bodies sampled (evenly across the batch) to train the dictionary: enough to see every kind.
pub const TRAIN_SAMPLES: usize = 2_000;
/// Dictionary size: measured ratio flattens beyond this for catalog JSON.
const DICT_BYTES: usize = 64 * 1024;
/// zstd level: 6 compresses a 1.3 KB body in about 8 microseconds with the dictionary, to 13%
/// less than level 3 (measured on the benchmark catalog); 9 saves 7% more at twice the time.
const LEVEL: i32 = 6;
/// Batches at least this large are compressed on every core.
const PARALLEL_MIN: usize = 4_096;

struct Dict {
    /// The trained dictionary; each batch prepares its encoder tables from it (see
    /// [`Body::new_all`]).
    raw: Box<[u8]>,
    decoder: DecoderDictionary<'static>,
}

static DICT: OnceLock<Dict> = OnceLock::new();

thread_local! {
    // Contexts are costly to create (hundreds of KB each); one per serving thread is reused.
    static DECOMPRESSOR: RefCell<Option<Decompressor<'static>>> = const { RefCell::new(None) };
}

/// One entity's final JSON text, stored compressed when a dictionary exists, with up to two
/// values left out (see [`punch`]).
#[derive(Clone)]
pub struct Body {
    /// Length of the text, with [`PLAIN`] set when `bytes` is the text itself.
    len: u32,
    /// Where the left-out values start in the text, or [`NO_HOLE`].
    holes: [u16; 2],
    bytes: Box<[u8]>,
}

/// Flag in `Body::len`: stored as plain text (no dictionary yet, or compression failed).
const PLAIN: u32 = 1 << 31;
/// `Body::holes` entry for a value kept in the text: it was not found, or sits beyond the
/// first 64 KiB (metadata that large is rare enough to pay for).
pub const NO_HOLE: u16 = u16::MAX;

/// Overwrites, in `text`, the value of the first `"name":"value"` of each pair with as many
/// ASCII zeros, and returns where each value starts, for [`Body::with_holes`]. Values that JSON
/// would escape are left in place, so a value found is always the one written back.
pub fn punch(text: &mut String, pairs: [(&str, &str); 2]) -> [u16; 2] {
    pairs.map(|(name, value)| {
        if value.is_empty() || value.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
            return NO_HOLE;
        }
        let pattern = format!("\"{name}\":\"{value}\"");
        let Some(found) = memchr::memmem::find(text.as_bytes(), pattern.as_bytes()) else {
            return NO_HOLE;
        };
        let at = found + name.len() + 4;
        let Ok(hole) = u16::try_from(at) else {
            return NO_HOLE;
        };
        if hole == NO_HOLE {
            return NO_HOLE;
        }
        text.replace_range(at..at + value.len(), &"0".repeat(value.len()));
        hole
    })
}

impl Body {
    /// Stores `text`, compressed if the process has a dictionary. The encoder is prepared for
    /// this one text (see [`Body::new_all`]): many texts belong in one batch.
    pub fn new(text: &str) -> Body {
        Self::new_all(&[text]).pop().expect("one body for one text")
    }

    /// Records where [`punch`] left values out of this body's text.
    pub fn with_holes(mut self, holes: [u16; 2]) -> Body {
        self.holes = holes;
        self
    }

    /// Stores a batch; trains the process's dictionary on it first when there is none yet and
    /// the batch is large enough to teach one.
    pub fn new_all<S: AsRef<str> + Sync>(texts: &[S]) -> Vec<Body> {
        train(texts);
        let Some(dict) = DICT.get() else {
            return texts.iter().map(|t| plain(t.as_ref())).collect();
        };
        // The encoder's tables (0.75 MiB at this level) are prepared for the batch and dropped
        // with it, a fraction of a millisecond: between rounds nothing is compressed.
        let encoder = EncoderDictionary::copy(&dict.raw, LEVEL);
        let pack_all = |texts: &[S]| -> Vec<Body> {
            let mut compressor = compressor(&encoder);
            texts
                .iter()
                .map(|t| pack(compressor.as_mut(), t.as_ref()))
                .collect()
        };
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 8);
        if workers == 1 || texts.len() < PARALLEL_MIN {
            return pack_all(texts);
        }
        let chunk = texts.len().div_ceil(workers);
        std::thread::scope(|scope| {
            let handles: Vec<_> = texts
                .chunks(chunk)
                .map(|c| scope.spawn(|| pack_all(c)))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("compression does not panic"))
                .collect()
        })
    }

    /// The text as stored, zeros in its holes: borrowed when plain, decompressed (a few
    /// microseconds) when packed.
    pub fn text(&self) -> Cow<'_, str> {
        if self.len & PLAIN != 0 {
            let text = std::str::from_utf8(&self.bytes).expect("a plain body is its UTF-8 text");
            Cow::Borrowed(text)
        } else {
            Cow::Owned(unpack(&self.bytes, self.len()))
        }
    }

    /// The whole text, `values` written back into the holes [`punch`] made for them.
    pub fn text_with(&self, values: [&str; 2]) -> Cow<'_, str> {
        let mut text = self.text();
        for (at, value) in self.holes.into_iter().zip(values) {
            let at = at as usize;
            if at != NO_HOLE as usize && text.get(at..at + value.len()).is_some() {
                text.to_mut().replace_range(at..at + value.len(), value);
            }
        }
        text
    }

    /// Length of the JSON text in bytes.
    pub fn len(&self) -> usize {
        (self.len & !PLAIN) as usize
    }

    /// Heap bytes this body holds.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.len()
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
        decoder: DecoderDictionary::copy(&raw),
        raw: raw.into_boxed_slice(),
    });
}

/// A compression context for one batch, or `None` if zstd cannot make one (bodies stay plain).
fn compressor<'a>(encoder: &'a EncoderDictionary<'_>) -> Option<Compressor<'a>> {
    let mut c = Compressor::with_prepared_dictionary(encoder).ok()?;
    // The body keeps its length, and there is one dictionary: a frame need carry neither, nor
    // the magic number (8 bytes a body).
    c.set_parameter(CParameter::ContentSizeFlag(false)).ok()?;
    c.set_parameter(CParameter::DictIdFlag(false)).ok()?;
    c.set_parameter(CParameter::Format(FrameFormat::Magicless))
        .ok()?;
    Some(c)
}

fn pack(compressor: Option<&mut Compressor<'_>>, text: &str) -> Body {
    match compressor.and_then(|c| c.compress(text.as_bytes()).ok()) {
        Some(bytes) if text.len() < PLAIN as usize => Body {
            len: text.len() as u32,
            holes: [NO_HOLE; 2],
            bytes: bytes.into_boxed_slice(),
        },
        _ => plain(text),
    }
}

fn plain(text: &str) -> Body {
    // Entity texts are bounded far below 2 GiB by the reader's size limit.
    assert!(text.len() < PLAIN as usize, "entity text over 2 GiB");
    Body {
        len: text.len() as u32 | PLAIN,
        holes: [NO_HOLE; 2],
        bytes: text.as_bytes().into(),
    }
}

fn unpack(bytes: &[u8], len: usize) -> String {
    let dict = DICT.get().expect("a packed body implies a dictionary");
    let out = DECOMPRESSOR.with(|d| {
        let mut d = d.borrow_mut();
        if d.is_none() {
            *d = Decompressor::with_prepared_dictionary(&dict.decoder)
                .and_then(|mut d| {
                    d.set_parameter(DParameter::Format(FrameFormat::Magicless))?;
                    Ok(d)
                })
                .ok();
        }
        d.as_mut()?.decompress(bytes, len).ok()
    });
    // Our own compressed bytes, in memory: failing to read them back is a bug, not input.
    let out = out.expect("a packed body decompresses");
    String::from_utf8(out).expect("a packed body is the UTF-8 text it was made from")
}

impl PartialEq for Body {
    fn eq(&self, other: &Self) -> bool {
        self.holes == other.holes && self.text() == other.text()
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

    #[test]
    fn punched_values_are_left_out_and_written_back() {
        let uid = "5f0b2c1e-8d7a-4f3e-9b6c-2a1d0e9f8c7b";
        let etag = "3c9a1f0e2b4d6c8a0f1e3d5c7b9a2e4f6d8c0b1a";
        let text = format!(
            r#"{{"kind":"Component","metadata":{{"name":"a","uid":"{uid}","etag":"{etag}"}},"spec":{{"note":"uid {uid}"}}}}"#
        );
        let mut punched = text.clone();
        let holes = punch(&mut punched, [("uid", uid), ("etag", etag)]);
        assert_eq!(punched.len(), text.len());
        assert!(!punched.contains(&format!("\"uid\":\"{uid}\"")));
        assert!(!punched.contains(etag));
        // Only the `"uid":"…"` value is cut: the same text elsewhere stays.
        assert!(punched.contains(&format!("uid {uid}")));
        let body = Body::new(&punched).with_holes(holes);
        assert_eq!(body.text_with([uid, etag]), text.as_str());
        assert_eq!(body.text(), punched.as_str());

        // A value JSON would escape, or one not in the text, is kept where it is.
        let mut odd = r#"{"uid":"a\"b","etag":"e"}"#.to_owned();
        assert_eq!(
            punch(&mut odd, [("uid", "a\"b"), ("etag", "x")]),
            [NO_HOLE; 2]
        );
        assert_eq!(odd, r#"{"uid":"a\"b","etag":"e"}"#);
    }
}
