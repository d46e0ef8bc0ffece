//! The streamed answer of `rotor call`, made safe for a terminal as it arrives.
//!
//! A model's answer is text from a server: it can carry escape sequences that clear the screen,
//! set the window title, plant hyperlinks, or return the cursor to overwrite what was printed.
//! When stdout is a terminal (and `--raw` is not given), every escape sequence is removed and
//! every control character other than newline and tab is replaced by `�` (U+FFFD); a CR that
//! only ends a CRLF line ending is dropped. The filter keeps its state between chunks, so a
//! sequence split across two of them is removed whole. A pipe gets the bytes as sent.

/// What part of an escape sequence the previous chunk ended in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Text,
    /// After ESC.
    Escape,
    /// Inside `ESC [ …` until its final byte.
    Csi,
    /// Inside an OSC/DCS/APC/PM/SOS string until BEL, ST or `ESC \`.
    String,
    /// Inside a string, right after an ESC (a `\` ends it).
    StringEscape,
    /// After a CR: dropped if a LF follows, shown as a replacement otherwise.
    CarriageReturn,
}

#[derive(Debug, Default)]
pub(crate) struct TerminalFilter {
    state: State,
}

impl TerminalFilter {
    pub(crate) fn new() -> Self {
        TerminalFilter::default()
    }

    /// The printable part of `chunk`.
    pub(crate) fn filter(&mut self, chunk: &str) -> String {
        let mut out = String::with_capacity(chunk.len());
        for c in chunk.chars() {
            self.state = match (self.state, c) {
                (State::CarriageReturn, '\n') => {
                    out.push('\n');
                    State::Text
                }
                (State::CarriageReturn, _) => {
                    out.push('\u{fffd}');
                    self.text(c, &mut out)
                }
                (State::Text, _) => self.text(c, &mut out),
                (State::Escape, '[') => State::Csi,
                (State::Escape, ']' | 'P' | '_' | '^' | 'X') => State::String,
                (State::Escape, _) => State::Text,
                (State::Csi, '\u{40}'..='\u{7e}') => State::Text,
                (State::Csi, _) => State::Csi,
                (State::String, '\u{7}' | '\u{9c}') => State::Text,
                (State::String, '\u{1b}') => State::StringEscape,
                (State::String, _) => State::String,
                (State::StringEscape, _) => State::Text,
            };
        }
        out
    }

    /// The end of the answer: a pending CR is shown.
    pub(crate) fn finish(&mut self) -> String {
        let pending = self.state == State::CarriageReturn;
        self.state = State::Text;
        if pending {
            "\u{fffd}".into()
        } else {
            String::new()
        }
    }

    fn text(&self, c: char, out: &mut String) -> State {
        match c {
            '\u{1b}' => State::Escape,
            '\u{9b}' => State::Csi,
            '\u{90}' | '\u{9d}' | '\u{9e}' | '\u{9f}' | '\u{98}' => State::String,
            '\r' => State::CarriageReturn,
            '\n' | '\t' => {
                out.push(c);
                State::Text
            }
            c if c.is_control() => {
                out.push('\u{fffd}');
                State::Text
            }
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                // Bidi overrides reorder what follows on screen; isolates are dropped with them.
                State::Text
            }
            c => {
                out.push(c);
                State::Text
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&str]) -> String {
        let mut f = TerminalFilter::new();
        let mut out: String = chunks.iter().map(|c| f.filter(c)).collect();
        out.push_str(&f.finish());
        out
    }

    #[test]
    fn escapes_and_controls_are_neutralised() {
        assert_eq!(all(&["clear\x1b[2J\x1b[Hme"]), "clearme");
        assert_eq!(all(&["title\x1b]0;owned\x07 ok"]), "title ok");
        assert_eq!(
            all(&["\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\"]),
            "link"
        );
        assert_eq!(all(&["a\rb"]), "a\u{fffd}b");
        assert_eq!(all(&["line\r\nnext\ttab\u{7}"]), "line\nnext\ttab\u{fffd}");
        assert_eq!(all(&["bidi\u{202e}gnp.exe"]), "bidignp.exe");
        assert_eq!(all(&["é 😀 ok"]), "é 😀 ok");
    }

    #[test]
    fn sequences_split_across_chunks_are_removed_whole() {
        assert_eq!(all(&["a\x1b", "[3", "1mred"]), "ared");
        assert_eq!(all(&["x\x1b]0;ti", "tle\x1b", "\\y"]), "xy");
        assert_eq!(all(&["end\r", "\nnext"]), "end\nnext");
        assert_eq!(all(&["cut\r"]), "cut\u{fffd}");
    }
}
