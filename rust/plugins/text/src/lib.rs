//! Test plugin "text": documents shared as `Arc`, and strings.
use std::sync::Arc;

/// Immutable text, shared between holders.
pub struct Doc {
    pub text: String,
}
ferry::export!(Doc, "text.Doc", Shared);

ferry::plugin! {
    name: "text",
    version: "0.2.0",
    types: [Doc],
    functions: {
        /// A document holding `s`.
        fn doc_new(s: &str) -> Arc<Doc> {
            Arc::new(Doc { text: s.to_owned() })
        }

        /// The document's length in bytes.
        fn doc_len(d: &Doc) -> u64 {
            d.text.len() as u64
        }

        /// A new document, the text in upper case.
        fn doc_upper(d: &Doc) -> Arc<Doc> {
            Arc::new(Doc { text: d.text.to_uppercase() })
        }

        /// a's text followed by b's; consumes a.
        fn doc_concat(a: Arc<Doc>, b: &Doc) -> Arc<Doc> {
            Arc::new(Doc { text: format!("{}{}", a.text, b.text) })
        }

        /// The number of whitespace-separated words.
        fn word_count(s: &str) -> u32 {
            s.split_whitespace().count() as u32
        }
    }
}
