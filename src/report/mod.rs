//! Reports of a run: the terminal table now; Markdown, charts and HTML later.

pub mod table;
