//! Runs sajin's image pipeline on files, the way an upload does, for benchmarks:
//! `pipeline FILE [RUNS]` processes FILE RUNS times (default 1) and prints, per run, the time
//! and the sizes made; with `--out DIR` the thumbnail and medium image are written there.
//!
//! `bench/run.sh` times this against `vipsthumbnail` with hyperfine.

use std::path::PathBuf;
use std::time::Instant;

use sajin::imaging::{process, Options};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut file = None;
    let mut runs = 1usize;
    let mut out: Option<PathBuf> = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = args.next().map(PathBuf::from),
            number if file.is_some() => runs = number.parse()?,
            path => file = Some(PathBuf::from(path)),
        }
    }
    let file = file.ok_or_else(|| anyhow::anyhow!("usage: pipeline FILE [RUNS] [--out DIR]"))?;
    let mut input = std::fs::read(&file)?;

    for run in 1..=runs {
        // The last run takes the bytes, as an upload does, so a single run holds one copy.
        let bytes = if run < runs {
            input.clone()
        } else {
            std::mem::take(&mut input)
        };
        let started = Instant::now();
        let processed = process(bytes, &Options::default())?;
        let elapsed = started.elapsed();
        let medium = processed.medium.as_ref().map(|m| (m.width, m.height));
        eprintln!(
            "{:>8.1} ms  original {}x{}  medium {:?}  thumb {}x{}",
            elapsed.as_secs_f64() * 1000.0,
            processed.original.width,
            processed.original.height,
            medium,
            processed.thumb.width,
            processed.thumb.height,
        );
        if let Some(dir) = &out {
            std::fs::create_dir_all(dir)?;
            let thumb = &processed.thumb;
            std::fs::write(
                dir.join(format!("th.{}", thumb.format.extension())),
                &thumb.bytes,
            )?;
            if let Some(medium) = &processed.medium {
                std::fs::write(
                    dir.join(format!("md.{}", medium.format.extension())),
                    &medium.bytes,
                )?;
            }
        }
    }
    Ok(())
}
