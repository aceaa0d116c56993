//! Example plugin "caps": takes the host's text buffers (`own<host.Text>`)
//! and makes shouted copies of them, Rust objects that the host holds as
//! `own<caps.Shout>` handles and hands back to read or join them.
use ferry::{Error, Owned, Status};
use ferry_example_host::HostText;
use std::sync::Arc;

/// Upper-case text. It never changes, so holders share it as an `Arc`.
pub struct Shout {
    text: String,
}
ferry::export!(Shout, "caps.Shout", Shared);

ferry::plugin! {
    name: "caps",
    version: "1.0.0",
    types: [Shout],
    functions: {
        /// The line in upper case and bangs exclamation marks; takes the line.
        fn shout(line: Owned<HostText>, bangs: u8) -> ferry::Result<Arc<Shout>> {
            let mut text = line.borrow()?.text().to_uppercase();
            text.push_str(&"!".repeat(bangs.into()));
            Ok(Arc::new(Shout { text }))
            // `line` drops here: the host's destructor runs, called from Rust.
        }

        /// a, a space, then b; takes a and borrows b.
        fn join(a: Arc<Shout>, b: &Shout) -> Arc<Shout> {
            // Owning a pays off: when the caller held its only reference,
            // its text is extended in place instead of copied.
            let mut text = Arc::try_unwrap(a).map_or_else(|a| a.text.clone(), |a| a.text);
            text.push(' ');
            text.push_str(&b.text);
            Arc::new(Shout { text })
        }

        /// The shout's length in bytes.
        fn shout_len(s: &Shout) -> u32 {
            s.text.len() as u32
        }

        /// The shout's byte at index; FERRY_E_LIMIT past the end.
        // The host cannot see inside a Rust object: it copies a shout out
        // through shout_len and this.
        fn shout_byte(s: &Shout, index: u32) -> ferry::Result<u8> {
            let byte = s.text.as_bytes().get(index as usize).copied();
            byte.ok_or_else(|| {
                let len = s.text.len();
                Error::new(Status::LIMIT, format!("index {index} is past the end ({len} bytes)"))
            })
        }

        /// Whether s has letters and none of them is lower case.
        fn is_shouting(s: &str) -> bool {
            s.chars().any(char::is_alphabetic) && !s.chars().any(char::is_lowercase)
        }
    }
}
