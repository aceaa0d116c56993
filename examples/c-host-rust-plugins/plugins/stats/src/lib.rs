//! Example plugin "stats": reads the host's text buffers without taking
//! them (`ref<host.Text>`: the host keeps each buffer), and counts the words
//! of a plain string.
use ferry::HostRef;
use ferry_example_host::HostText;

ferry::plugin! {
    name: "stats",
    version: "1.0.0",
    types: [],
    functions: {
        /// The number of whitespace-separated words in s.
        fn count_words(s: &str) -> u32 {
            s.split_whitespace().count() as u32
        }

        /// The number of words in the host's text.
        fn word_count(line: HostRef<HostText>) -> u32 {
            count_words(&line.text())
        }

        /// The length, in characters, of the longest word.
        fn longest_word(line: HostRef<HostText>) -> u32 {
            let text = line.text();
            let longest = text.split_whitespace().map(|w| w.chars().count()).max();
            longest.unwrap_or(0) as u32
        }

        /// How often word occurs, ignoring ASCII case and punctuation.
        fn occurrences(line: HostRef<HostText>, word: &str) -> u32 {
            let text = line.text();
            let words = text.split_whitespace();
            let bare = words.map(|w| w.trim_matches(|c: char| c.is_ascii_punctuation()));
            bare.filter(|w| w.eq_ignore_ascii_case(word)).count() as u32
        }
    }
}
