//! The marker check: a block shown after `<!-- file: PATH -->` is an excerpt of PATH.

use std::path::{Path, PathBuf};

use super::PAGES;

/// A fenced block of a page: the line it starts on, its language and lines, and the file it
/// says it shows.
struct Block {
    line: usize,
    lang: String,
    lines: Vec<String>,
    file: Option<String>,
}

fn blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut marker: Option<String> = None;
    let mut open: Option<Block> = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(block) = open.as_mut() {
            if trimmed.starts_with("```") {
                blocks.extend(open.take());
            } else {
                block.lines.push(line.to_owned());
            }
        } else if let Some(lang) = trimmed.strip_prefix("```") {
            open = Some(Block { line: n + 1, lang: lang.to_owned(), lines: Vec::new(), file: marker.take() });
        } else if let Some(path) = trimmed.strip_prefix("<!-- file:").and_then(|r| r.strip_suffix("-->")) {
            marker = Some(path.trim().to_owned());
        } else if !trimmed.is_empty() {
            marker = None;
        }
    }
    blocks
}

/// Whether `wanted` are lines of `file`, in order, each compared without the space around
/// it (an excerpt may be indented less); the lines between them may be left out. A line `// ...` or
/// `# ...` (after any indentation and before any remark) marks such a gap for the reader.
fn excerpt_of(wanted: &[String], file: &str) -> Result<(), String> {
    let gap = |line: &str| ["// ...", "# ..."].iter().any(|g| line.trim_start().starts_with(g));
    let mut lines = file.lines().map(str::trim);
    for want in wanted.iter().map(|w| w.trim()).filter(|w| !w.is_empty() && !gap(w)) {
        if !lines.any(|line| line == want) {
            return Err(want.to_owned());
        }
    }
    Ok(())
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Languages whose blocks may stand alone: Rust (rustdoc compiles it), commands, output,
/// and a client's few lines beside a server's. Blocks of any other language show a file.
const UNMARKED: &[&str] = &["", "sh", "text", "console", "js", "python"];

#[test]
fn every_shown_file_is_an_excerpt_of_that_file() {
    let mut failures = Vec::new();
    for page in PAGES {
        let path = root().join(page);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for block in blocks(&text) {
            let lang = block.lang.split(',').next().unwrap_or("").trim();
            let at = format!("{page}:{}", block.line);
            match &block.file {
                Some(file) => {
                    let shown = root().join("..").join(file);
                    match std::fs::read_to_string(&shown) {
                        Ok(content) => {
                            if let Err(line) = excerpt_of(&block.lines, &content) {
                                failures.push(format!("{at}: `{line}` is not in {file} (in this order)"));
                            }
                        }
                        Err(e) => failures.push(format!("{at}: {file}: {e}")),
                    }
                }
                None if block.lang.contains("ignore") => {
                    failures.push(format!("{at}: an ignored block must show a file: `<!-- file: PATH -->` before it"))
                }
                None if lang == "rust" || UNMARKED.contains(&lang) => {}
                None => failures.push(format!("{at}: a ```{lang} block needs a `<!-- file: PATH -->` line before it")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_check_sees_a_drifted_excerpt() {
    let file = "a = 1\nb = 2\nc = 3\n";
    assert!(excerpt_of(&["a = 1".into(), "c = 3".into()], file).is_ok());
    assert_eq!(excerpt_of(&["c = 3".into(), "a = 1".into()], file), Err("a = 1".into()));
    assert_eq!(excerpt_of(&["b = 3".into()], file), Err("b = 3".into()));
    assert!(excerpt_of(&["a = 1".into(), "# ... the rest".into(), "c = 3".into()], file).is_ok());
    let page = "<!-- file: x.toml -->\n```toml\na = 1\n```\n\n```toml\nb\n```\n";
    let found = blocks(page);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].file.as_deref(), Some("x.toml"));
    assert_eq!(found[1].file, None);
}
