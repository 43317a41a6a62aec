//! Prints the criterion medians of the throughput benches as a table:
//! time per iteration, messages/s, bytes/s, and libwebsocket's speed relative
//! to each peer (peer time / our time: above 1 means we are faster).
//!
//! Usage: summary <criterion directory>   (CRITERION_HOME of the bench run)

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use wsbench::workloads::{BIG_SIZE, SMALL_COUNT, SMALL_SIZE};

const ENGINES: [&str; 3] = ["ours", "tungstenite", "embedded-websocket"];

/// Median in nanoseconds from `<dir>/<group>/<bench>/new/estimates.json`.
fn median_ns(dir: &Path, group: &str, bench: &str) -> Option<f64> {
    let path: PathBuf = [
        dir,
        Path::new(group),
        Path::new(bench),
        Path::new("new/estimates.json"),
    ]
    .iter()
    .collect();
    let text = std::fs::read_to_string(path).ok()?;
    // {"mean":{...},"median":{"confidence_interval":{...},"point_estimate":N,...},...}
    let at = text.find("\"median\"")?;
    let rest = &text[at..];
    let p = rest.find("\"point_estimate\":")? + "\"point_estimate\":".len();
    let num: String = rest[p..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
        .collect();
    num.parse().ok()
}

fn human(v: f64, unit: &str) -> String {
    let (d, p) = if v >= 1e9 {
        (1e9, "G")
    } else if v >= 1e6 {
        (1e6, "M")
    } else if v >= 1e3 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    format!("{:.2} {p}{unit}", v / d)
}

fn time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.3} us", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

fn main() -> ExitCode {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: summary <criterion dir>");
        return ExitCode::from(2);
    };
    let dir = Path::new(&dir);
    // group, messages per iteration, payload bytes per iteration
    let groups: [(&str, f64, f64); 5] = [
        (
            "recv_16B_x100k",
            SMALL_COUNT as f64,
            (SMALL_COUNT * SMALL_SIZE) as f64,
        ),
        ("recv_64KiB", 1.0, BIG_SIZE as f64),
        ("recv_64KiB_16frag", 1.0, BIG_SIZE as f64),
        ("send_16B", 1.0, 16.0),
        ("send_1000B", 1.0, 1000.0),
    ];
    let mut missing = 0;
    println!(
        "{:<18} {:<19} {:>12} {:>14} {:>14} {:>10}",
        "workload", "engine", "median", "messages/s", "bytes/s", "ours x"
    );
    for (group, msgs, bytes) in groups {
        let ours = median_ns(dir, group, "ours");
        for engine in ENGINES {
            let Some(ns) = median_ns(dir, group, engine) else {
                if engine == "ours" {
                    println!("{group:<18} {engine:<19} {:>12}", "(missing)");
                    missing += 1;
                } else {
                    println!(
                        "{group:<18} {engine:<19} {:>12}",
                        "(not run: see the bench log)"
                    );
                }
                continue;
            };
            let secs = ns * 1e-9;
            let ratio = match (engine, ours) {
                ("ours", _) => "1.00".to_string(),
                (_, Some(o)) => format!("{:.2}", ns / o),
                _ => "-".to_string(),
            };
            println!(
                "{group:<18} {engine:<19} {:>12} {:>14} {:>14} {:>10}",
                time(ns),
                human(msgs / secs, "msg/s"),
                human(bytes / secs, "B/s"),
                ratio
            );
        }
    }
    println!("(ours x = peer median / our median: above 1.00 means libwebsocket is faster)");
    // Two benches of one group side by side: `line(a, b)` of their medians.
    let mut pair = |group: &str, a: &str, b: &str, line: &dyn Fn(f64, f64) -> String| match (
        median_ns(dir, group, a),
        median_ns(dir, group, b),
    ) {
        (Some(x), Some(y)) => println!("{group:<18} {}", line(x, y)),
        _ => {
            println!("{group:<18} {a} / {b}: (missing)");
            missing += 1;
        }
    };
    for group in ["send_16B", "send_1000B"] {
        pair(group, "ours-framing", "embedded-websocket", &|f, e| {
            format!(
                "framing + masking only (no port call, no ws_event_sent): {}, embedded-websocket x {:.2}",
                time(f),
                e / f
            )
        });
    }
    for group in ["mask_1KiB", "mask_64KiB"] {
        pair(group, "mask_into", "copy", &|m, c| {
            format!(
                "mask_into {} vs copy {}: mask/copy = {:.2}",
                time(m),
                time(c),
                m / c
            )
        });
    }
    if missing > 0 {
        eprintln!(
            "summary: {missing} benchmark result(s) missing under {}",
            dir.display()
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
