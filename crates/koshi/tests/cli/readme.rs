//! Every `koshi …` example of the README runs, as written, from the repository root, in order, on
//! one bank: the README is the first thing a new user tries.

use std::path::Path;

use super::koshi;

/// The command lines of the README's shell blocks that start with `koshi`, continuation lines
/// joined and trailing comments removed.
fn readme_commands(readme: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut in_shell = false;
    let mut pending = String::new();
    for line in readme.lines() {
        if line.trim_start().starts_with("```") {
            in_shell = !in_shell && line.trim_start().trim_start_matches('`').starts_with("sh");
            continue;
        }
        if !in_shell {
            continue;
        }
        let line = strip_comment(line);
        let (text, continues) = match line.trim_end().strip_suffix('\\') {
            Some(t) => (t.to_string(), true),
            None => (line.trim_end().to_string(), false),
        };
        pending.push_str(text.trim());
        pending.push(' ');
        if !continues {
            let command = pending.trim().to_string();
            if command.starts_with("koshi ") {
                commands.push(command);
            }
            pending.clear();
        }
    }
    commands
}

/// The line without a `#` comment outside quotes.
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if i == 0 || line[..i].ends_with(char::is_whitespace) => return &line[..i],
            _ => {}
        }
    }
    line
}

/// Split a command line into words as a POSIX shell does for plain and quoted words.
fn shell_words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote = None;
    for c in command.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (_, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[test]
fn the_readme_command_parser_reads_continuations_quotes_and_comments() {
    let text = "```sh\nkoshi query X --key 'A B' # note\nkoshi gravity fit 'y ~ x | a' \\\n    --data f   # more\nls\n```\n\
koshi outside a block\n";
    let commands = readme_commands(text);
    assert_eq!(commands, vec!["koshi query X --key 'A B'", "koshi gravity fit 'y ~ x | a' --data f"]);
    assert_eq!(shell_words(&commands[1]), vec!["koshi", "gravity", "fit", "y ~ x | a", "--data", "f"]);
}

#[test]
fn every_readme_example_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let commands = readme_commands(&readme);
    assert!(commands.len() >= 15, "the README's examples were not found: {commands:?}");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("readme.db");
    let mut failures = Vec::new();
    for command in &commands {
        let words = shell_words(command);
        // `serve` runs until stopped: it has tests of its own.
        if words.get(1).is_some_and(|w| w == "serve") {
            continue;
        }
        let out = koshi().current_dir(&root).env("KOSHI_DB", &db).args(&words[1..]).output().expect("koshi runs");
        if !out.status.success() || out.stdout.is_empty() {
            failures.push(format!(
                "{command}\n  exit {:?}: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "README examples that fail:\n{}", failures.join("\n"));
}
