//! `.dockerignore` with the engine's rules (moby/patternmatcher): one pattern a line, `#`
//! comments, `!` exceptions, paths cleaned and relative to the context root, `*` and `?`
//! within a path element, `**` across elements, `[…]` classes, `\` escapes; the last matching
//! pattern wins, and a pattern matching a directory matches what is below it.

use std::io;
use std::path::Path;

/// Largest `.dockerignore` read (a bigger one is an error, not a silent cut).
const MAX_FILE: u64 = 1024 * 1024;

/// The patterns of one context.
#[derive(Debug, Default)]
pub struct Ignore {
    patterns: Vec<Pattern>,
}

#[derive(Debug)]
struct Pattern {
    exception: bool,
    text: String,
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Char(char),
    /// `?`: one character but `/`.
    One,
    /// `*`: any run without `/`.
    Star,
    /// `**` before more pattern: nothing, or anything ending in `/`.
    AnyDirs,
    /// `**` at the end: anything.
    Rest,
    /// `[…]`: ranges, negated or not.
    Class(bool, Vec<(char, char)>),
}

impl Ignore {
    /// Reads `dir/.dockerignore` (none: nothing ignored). Like the Docker CLI, the Dockerfile
    /// and `.dockerignore` are kept even when a pattern names them.
    pub fn load(dir: &Path, dockerfile: &str) -> io::Result<Ignore> {
        let path = dir.join(".dockerignore");
        let text = match std::fs::metadata(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Ignore::default()),
            Err(e) => return Err(e),
            Ok(m) if m.len() > MAX_FILE => {
                return Err(io::Error::other(format!(
                    "{} is larger than {MAX_FILE} bytes",
                    path.display()
                )))
            }
            Ok(_) => std::fs::read_to_string(&path)?,
        };
        let mut ignore = Ignore::parse(&text);
        for keep in [".dockerignore", &clean(dockerfile)] {
            if ignore.excludes(keep) {
                ignore.patterns.push(Pattern::new(true, keep));
            }
        }
        Ok(ignore)
    }

    /// Parses the text of a `.dockerignore`.
    pub fn parse(text: &str) -> Ignore {
        let patterns = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .filter_map(|l| {
                let (exception, rest) = match l.strip_prefix('!') {
                    Some(rest) => (true, rest.trim()),
                    None => (false, l),
                };
                let cleaned = clean(rest);
                (!cleaned.is_empty()).then(|| Pattern::new(exception, &cleaned))
            })
            .collect();
        Ignore { patterns }
    }

    /// True when `rel` (a `/`-separated path relative to the context root) is left out.
    pub fn excludes(&self, rel: &str) -> bool {
        let parents: Vec<&str> = rel.match_indices('/').map(|(i, _)| &rel[..i]).collect();
        let mut excluded = false;
        for p in &self.patterns {
            if p.exception != excluded {
                continue;
            }
            if p.matches(rel) || parents.iter().any(|d| p.matches(d)) {
                excluded = !p.exception;
            }
        }
        excluded
    }

    /// True when an exception may keep something below the excluded directory `rel` (the
    /// engine's test: an exception's text starts with `rel/`).
    pub fn may_keep_below(&self, rel: &str) -> bool {
        let prefix = format!("{rel}/");
        self.patterns
            .iter()
            .any(|p| p.exception && format!("{}/", p.text).starts_with(&prefix))
    }
}

/// Go's `filepath.Clean` for relative patterns, with a leading `/` dropped.
fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if path.starts_with('/') => {}
            other => parts.push(other),
        }
    }
    parts.join("/")
}

impl Pattern {
    fn new(exception: bool, text: &str) -> Pattern {
        Pattern {
            exception,
            text: text.to_string(),
            tokens: tokenize(text),
        }
    }

    /// Whole-string match in one sweep per token: linear in pattern × path.
    fn matches(&self, path: &str) -> bool {
        let s: Vec<char> = path.chars().collect();
        // ok[j]: the tokens so far match s[..j].
        let mut ok = vec![false; s.len() + 1];
        ok[0] = true;
        for token in &self.tokens {
            ok = step(token, &s, &ok);
        }
        ok[s.len()]
    }
}

/// Where `token` can end, given where the tokens before it can end.
fn step(token: &Token, s: &[char], ok: &[bool]) -> Vec<bool> {
    let mut next = vec![false; ok.len()];
    let mut carry = false;
    for k in 0..ok.len() {
        match token {
            Token::Star | Token::Rest => {
                carry |= ok[k];
                next[k] = carry;
                if *token == Token::Star && s.get(k) == Some(&'/') {
                    carry = false;
                }
            }
            Token::AnyDirs => {
                next[k] |= ok[k];
                carry |= ok[k];
                if carry && s.get(k) == Some(&'/') {
                    next[k + 1] = true;
                }
            }
            one => {
                if ok[k] && s.get(k).is_some_and(|c| one_matches(one, *c)) {
                    next[k + 1] = true;
                }
            }
        }
    }
    next
}

fn one_matches(token: &Token, c: char) -> bool {
    match token {
        Token::Char(x) => *x == c,
        Token::One => c != '/',
        Token::Class(negated, ranges) => {
            c != '/' && ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
        }
        _ => false,
    }
}

fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                tokens.push(if i >= chars.len() {
                    Token::Rest
                } else {
                    Token::AnyDirs
                });
                continue;
            }
            '*' => tokens.push(Token::Star),
            '?' => tokens.push(Token::One),
            '\\' if i + 1 < chars.len() => {
                i += 1;
                tokens.push(Token::Char(chars[i]));
            }
            '[' => {
                if let Some((class, end)) = class(&chars, i + 1) {
                    tokens.push(class);
                    i = end;
                } else {
                    tokens.push(Token::Char('['));
                }
            }
            c => tokens.push(Token::Char(c)),
        }
        i += 1;
    }
    tokens
}

/// Parses a class starting after `[`; returns it and the index of its `]`.
fn class(chars: &[char], mut i: usize) -> Option<(Token, usize)> {
    let negated = matches!(chars.get(i), Some('^' | '!'));
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let start = i;
    while i < chars.len() && (chars[i] != ']' || i == start) {
        let mut lo = chars[i];
        if lo == '\\' {
            i += 1;
            lo = *chars.get(i)?;
        }
        let mut hi = lo;
        if chars.get(i + 1) == Some(&'-') && chars.get(i + 2).is_some_and(|c| *c != ']') {
            hi = chars[i + 2];
            i += 2;
        }
        ranges.push((lo, hi));
        i += 1;
    }
    (i < chars.len()).then_some((Token::Class(negated, ranges), i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ig(text: &str) -> Ignore {
        Ignore::parse(text)
    }

    #[test]
    fn dockerignore_patterns_follow_the_engines_rules() {
        let i = ig("# c\n*.log\n!keep.log\n/secrets\n**/cache\ndocs/*.md\n  spaced  \n");
        assert!(i.excludes("a.log") && !i.excludes("keep.log"));
        assert!(!i.excludes("sub/a.log"), "`*` stays in one element");
        assert!(i.excludes("secrets") && i.excludes("secrets/key/deep"));
        assert!(i.excludes("cache") && i.excludes("x/y/cache") && i.excludes("x/cache/z"));
        assert!(i.excludes("docs/a.md") && !i.excludes("docs/sub/a.md"));
        assert!(i.excludes("spaced") && !i.excludes("# c"));
        assert!(!i.excludes("src/main.rs"));
    }

    #[test]
    fn double_star_classes_escapes_and_cleaning() {
        let i = ig("a/**/z\n**\n!x[0-9]\n!y[!a]\n!\\*lit\n");
        assert!(i.excludes("anything/at/all"));
        assert!(!i.excludes("x5") && i.excludes("xa"));
        assert!(!i.excludes("yb") && i.excludes("ya"));
        assert!(!i.excludes("*lit"));
        let j = ig("a/**/z\n./b/../c/\n/d\n");
        assert!(j.excludes("a/z") && j.excludes("a/1/2/z") && !j.excludes("a/1/2/y"));
        assert!(j.excludes("c/x") && j.excludes("d") && !j.excludes("b"));
    }

    #[test]
    fn exceptions_can_reach_below_excluded_directories() {
        let i = ig("vendor\n!vendor/keep\n");
        assert!(i.excludes("vendor") && i.excludes("vendor/other"));
        assert!(!i.excludes("vendor/keep") && !i.excludes("vendor/keep/file"));
        assert!(i.may_keep_below("vendor") && !ig("vendor\n").may_keep_below("vendor"));
    }

    #[test]
    fn the_dockerfile_and_dockerignore_are_always_sent() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".dockerignore"), "*\n").unwrap();
        let i = Ignore::load(dir.path(), "./build/Dockerfile.x").unwrap();
        assert!(!i.excludes(".dockerignore") && !i.excludes("build/Dockerfile.x"));
        assert!(i.excludes("other") && i.may_keep_below("build"));
    }

    #[test]
    fn hostile_patterns_stay_linear() {
        let i = ig(&format!("{}b\n", "*a".repeat(200)));
        let path = "a".repeat(5000);
        let t = std::time::Instant::now();
        assert!(!i.excludes(&path));
        assert!(t.elapsed() < std::time::Duration::from_secs(2));
    }
}
