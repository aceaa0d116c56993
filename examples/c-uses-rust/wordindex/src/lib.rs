//! A small word index: C feeds it text and asks how often words occur.
//! The index lives in Rust; C holds a `Handle_WordIndex`, never a pointer.
use ferry::{boundary, boundary_out, out, CStrArg, Error, Handle};
use std::collections::HashMap;

/// Counts words (lowercased, split on anything that is not alphanumeric).
#[derive(Default)]
pub struct WordIndex {
    counts: HashMap<String, u64>,
    total: u64,
}

impl WordIndex {
    fn add(&mut self, text: &str) {
        for word in text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            *self.counts.entry(word.to_lowercase()).or_default() += 1;
            self.total += 1;
        }
    }

    fn most_common(&self) -> Option<(&str, u64)> {
        self.counts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(w, n)| (w.as_str(), *n))
    }
}

ferry::export!(WordIndex, "wordindex.WordIndex", Boxed);

/// A new, empty index in *out; free it with wordindex_free.
#[no_mangle]
pub extern "C" fn wordindex_new(out_h: Option<&mut Handle<WordIndex>>) -> ferry::Status {
    boundary_out(out_h, "out", || Handle::new(Box::<WordIndex>::default()))
}

/// Adds the words of a UTF-8 text.
#[no_mangle]
pub extern "C" fn wordindex_add(h: Handle<WordIndex>, text: CStrArg) -> ferry::Status {
    boundary(|| {
        let text = text.to_str("text")?;
        h.borrow_mut()?.add(text);
        Ok::<(), Error>(())
    })
}

/// How often `word` occurred (case-insensitive).
#[no_mangle]
pub extern "C" fn wordindex_count(
    h: Handle<WordIndex>,
    word: CStrArg,
    count: Option<&mut u64>,
) -> ferry::Status {
    boundary_out(count, "count", || {
        let word = word.to_str("word")?.to_lowercase();
        Ok::<_, Error>(h.borrow()?.counts.get(&word).copied().unwrap_or(0))
    })
}

/// Words seen, distinct words, and the most common word's count; the word
/// itself is copied into buf (NUL-terminated, truncated to len - 1 bytes).
#[no_mangle]
pub extern "C" fn wordindex_stats(
    h: Handle<WordIndex>,
    total: Option<&mut u64>,
    distinct: Option<&mut u64>,
    top_count: Option<&mut u64>,
    buf: Option<&mut [u8; 64]>,
) -> ferry::Status {
    boundary(|| {
        // Every out-pointer first: a failed call must change nothing.
        let (total, distinct) = (out(total, "total")?, out(distinct, "distinct")?);
        let (top_count, buf) = (out(top_count, "top_count")?, out(buf, "buf")?);
        let index = h.borrow()?;
        *total = index.total;
        *distinct = index.counts.len() as u64;
        let (word, n) = index.most_common().unwrap_or(("", 0));
        *top_count = n;
        let len = word.len().min(buf.len() - 1);
        buf[..len].copy_from_slice(&word.as_bytes()[..len]);
        buf[len] = 0;
        Ok::<(), Error>(())
    })
}

/// Frees the index (the handle is stale afterwards; a second free is
/// FERRY_E_STALE, not a crash).
#[no_mangle]
pub extern "C" fn wordindex_free(h: Handle<WordIndex>) -> ferry::Status {
    boundary(|| h.drop_handle())
}
