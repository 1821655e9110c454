//! Every input the fuzzers (`fuzz/`, see docs/reliability.md) ever failed on, replayed through
//! the same target bodies: `tests/fuzz_regressions/<target>/<file>`. Also runs the seed
//! corpora, so the bodies themselves are exercised by `cargo test`.

#[path = "fuzz_support/mod.rs"]
mod fuzz_support;

use std::path::Path;

fn replay(target: &str, body: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for dir in [
        root.join("tests/fuzz_regressions").join(target),
        root.join("fuzz/seeds").join(target),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            if f.file_name().is_some_and(|n| n == ".gitkeep") {
                continue;
            }
            let bytes = std::fs::read(&f).unwrap();
            eprintln!("{}", f.display());
            body(&bytes);
            n += 1;
        }
    }
    n
}

#[test]
fn transactions() {
    assert!(replay("transactions", fuzz_support::transactions) > 0);
}

#[test]
fn summary() {
    assert!(replay("summary", fuzz_support::summary) > 0);
}

#[test]
fn model_file() {
    assert!(replay("model_file", fuzz_support::model_file) > 0);
}
