//! A cursor over an expression's characters that reports 1-based columns; never panics.

use super::parse::{Part, ThresholdError, MAX_EXPRESSION_CHARS};
use crate::units::clip;

/// Position in a short text, by character.
pub(super) struct Cursor {
    chars: Vec<char>,
    pos: usize,
    part: Part,
}

impl Cursor {
    /// A cursor at the start of `text`, or an error when it is longer than
    /// [`MAX_EXPRESSION_CHARS`].
    pub fn new(text: &str, part: Part) -> Result<Cursor, ThresholdError> {
        let cursor = Cursor {
            chars: text.chars().take(MAX_EXPRESSION_CHARS + 1).collect(),
            pos: 0,
            part,
        };
        if cursor.chars.len() > MAX_EXPRESSION_CHARS {
            return Err(cursor.error(
                MAX_EXPRESSION_CHARS + 1,
                format!(
                    "the {} is longer than {MAX_EXPRESSION_CHARS} characters, the most allowed; a threshold reads like p95(total)<2s",
                    part.name()
                ),
            ));
        }
        Ok(cursor)
    }

    /// The 1-based column of the next character (one past the end at the end).
    pub fn column(&self) -> usize {
        self.pos + 1
    }

    /// The next character.
    pub fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    /// The character after the next one.
    pub fn peek_second(&self) -> Option<char> {
        self.chars.get(self.pos + 1).copied()
    }

    /// Moves past `n` characters (at most to the end).
    pub fn advance(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.chars.len());
    }

    /// Moves past `c` if it is next.
    pub fn eat(&mut self, c: char) -> bool {
        let next = self.peek() == Some(c);
        if next {
            self.advance(1);
        }
        next
    }

    /// Moves past whitespace.
    pub fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.advance(1);
        }
    }

    /// The column where it starts and the run of characters satisfying `accept` from here.
    pub fn take_while(&mut self, accept: impl Fn(char) -> bool) -> (usize, String) {
        let column = self.column();
        let mut taken = String::new();
        while let Some(c) = self.peek().filter(|&c| accept(c)) {
            taken.push(c);
            self.advance(1);
        }
        (column, taken)
    }

    /// A word: ASCII letters, digits, `_` and `.` (`p99.9`, `first_request`).
    pub fn word(&mut self) -> (usize, String) {
        self.take_while(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    }

    /// The next character as shown in an error: `"x"`, or `the end`.
    pub fn found(&self) -> String {
        match self.peek() {
            Some(c) => format!("{:?}", c.to_string()),
            None => "the end".to_string(),
        }
    }

    /// Moves past `c`, or fails here saying that `what` was expected.
    pub fn expect(&mut self, c: char, what: &str) -> Result<(), ThresholdError> {
        if self.eat(c) {
            return Ok(());
        }
        Err(self.error_here(format!("expected {what}, found {}", self.found())))
    }

    /// Succeeds when only whitespace is left; `after` names what came last.
    pub fn expect_end(&mut self, after: &str) -> Result<(), ThresholdError> {
        self.skip_whitespace();
        if self.peek().is_none() {
            return Ok(());
        }
        let rest: String = self.chars[self.pos..].iter().collect();
        Err(self.error_here(format!(
            "unexpected {:?} after {after}; expected the end of the {}",
            clip(&rest),
            self.part.name()
        )))
    }

    /// An error at `column` of this cursor's text.
    pub fn error(&self, column: usize, message: String) -> ThresholdError {
        ThresholdError {
            part: self.part,
            column,
            message,
        }
    }

    /// An error at the next character.
    pub fn error_here(&self, message: String) -> ThresholdError {
        self.error(self.column(), message)
    }
}
