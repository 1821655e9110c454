//! The Rust side of the Python package's speed comparison (`python/bench/speed.py`): the same
//! in-process work the package calls, timed here without Python. Reads a summary CSV
//! (untimed), then times the BG/NBD fit on its columns and the batch scoring of every customer
//! (`predict::score_columns`, what `Model.predict` calls, and
//! `AnyFitted::score` on the summary), and prints the medians as one JSON line.
//!
//! ```sh
//! cargo run --release --example batch_timing -- SUMMARY.csv [HORIZON] [REPEATS]
//! ```

use clv::{AnyFitted, CompressedRfm, FitOptions, TimeUnit, io::read_summary_csv};
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn timed<T>(repeats: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::with_capacity(repeats);
    let mut last = None;
    for _ in 0..repeats {
        let t = Instant::now();
        let out = f();
        times.push(t.elapsed().as_secs_f64());
        last = Some(out);
    }
    (median(times), last.expect("at least one repeat"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .ok_or("usage: batch_timing SUMMARY.csv [HORIZON] [REPEATS]")?;
    let horizon: f64 = args.get(1).map_or(Ok(39.0), |a| a.parse())?;
    let repeats: usize = args.get(2).map_or(Ok(5), |a| a.parse())?;
    let s = read_summary_csv(path, TimeUnit::Weeks)?;
    let (x, t_x, t) = (s.frequency(), s.recency(), s.age());
    let opts = FitOptions::default();
    // what clv.fit does with a DataFrame's columns: compress them, fit
    let (fit_s, model) = timed(repeats, || {
        let c = CompressedRfm::from_weighted(x.to_vec(), t_x.to_vec(), t.to_vec(), None)?;
        AnyFitted::fit_compressed("bgnbd", &c, TimeUnit::Weeks, &opts).expect("a compressed model")
    });
    let model = model?;
    // the library's batch function on the summary (the CLI's path without streaming)
    let (summary_score_s, _) = timed(repeats, || model.score(&s, horizon));
    // what Model.predict does: each row checked, then scored over these customers' tables
    let params = model.params();
    let (score_columns_s, scores) = timed(repeats, || {
        clv::predict::score_columns(&params, x, t_x, t, horizon)
    });
    let scores = scores?;
    let total: f64 = scores.iter().map(|s| s.expected_purchases).sum();
    println!(
        "{{\"customers\": {}, \"fit_s\": {fit_s}, \"score_columns_s\": {score_columns_s}, \"summary_score_s\": {summary_score_s}, \"expected_total\": {total}}}",
        s.len()
    );
    Ok(())
}
