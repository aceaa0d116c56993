//! The C host's types, declared once for every plugin of the example.
//!
//! `TextData` mirrors `struct text` in `main.c`. The host registers
//! "host.Text" as plain data (`FERRY_PLAIN`) with that struct's size and
//! alignment, and ferry checks the flag and compares them with `TextData`'s
//! before a plugin first reads one: a host and a plugin that disagree get
//! `FERRY_E_TYPE`, not a misread buffer.
use std::borrow::Cow;

ferry::plain! {
    /// One line of text: `len` bytes of UTF-8 in `bytes`.
    pub struct TextData {
        pub len: u32,
        pub bytes: [u8; 252],
    }
}
ferry::host_type!(pub HostText, "host.Text", layout = TextData);

impl TextData {
    /// The text. The host wrote these bytes, so a `len` past the end is
    /// clamped and bytes that are not UTF-8 are replaced rather than trusted.
    pub fn text(&self) -> Cow<'_, str> {
        let len = (self.len as usize).min(self.bytes.len());
        String::from_utf8_lossy(&self.bytes[..len])
    }
}
