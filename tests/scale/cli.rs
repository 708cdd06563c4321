//! `npm run scale` (tests/scripts/scale.sh): many producers, one stream, simulated
//! (tests/scale/sim.rs). Prints one summary line per run; with `--benchmarks FILE` it
//! rewrites that file's section between the scale markers (or appends one), with
//! `--svg FILE` it draws the figures.
//!
//! ```text
//! cargo run --release --example scale                      # the standard runs
//! cargo run --release --example scale -- --quick           # the same, shorter (a few minutes)
//! cargo run --release --example scale -- --producers 10000 --shards 8 --duration-s 600
//! cargo run --release --example scale -- --shards 8 --load 2 --keys random   # producers from the load
//! cargo run --release --example scale -- --core-cost       # what one request costs the core
//! ```
//! `--results FILE` keeps every run's figures as JSON; `--from-results FILE` writes the
//! section and the plot from them again without running. `SCALE_PROFILE=1` prints where a
//! run's time goes (phase A of each lane, waiting at the barrier, phase B).
//!
//! Options of one run: `--producers N --shards S --load L --keys session|random --timers T
//! --messages M --payload BYTES --duration-s D --measure-from-s F --drain-s D --seed S
//! --bucket strict|debt --all-throttled 200|400 --persist --limiter off|on` (on unless
//! said); `--threads N` (default 2; the figures do not depend on it). With
//! the standard set, `--limiter off|on` runs only its runs with the limiter so.
#![cfg_attr(target_arch = "wasm32", allow(unused))]

#[cfg(not(target_arch = "wasm32"))]
#[path = "sim.rs"]
mod sim;

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    app::main();
}

#[cfg(not(target_arch = "wasm32"))]
mod app {
    use super::sim::{self, Keys, Offered, Params, Report, Workload};
    use std::fmt::Write as _;
    use std::time::Instant;

    /// The demo's simulated producers (www/sim.js defaults: 2 timers × 5 messages a second),
    /// each message an app record of about 160 bytes (the envelope and a small object):
    /// 10,000 of them offer twice what 8 shards take.
    pub const DEMO: Workload = Workload {
        timers: 2,
        messages: 5,
        payload_bytes: 22,
    };
    /// The article's kinesis-streamer defaults: 10 cron jobs × 10 messages a second.
    pub const STREAMER: Workload = Workload {
        timers: 10,
        messages: 10,
        payload_bytes: 22,
    };

    const START: &str = "<!-- scale: start (written by npm run scale, tests/scale/cli.rs) -->";
    const END: &str = "<!-- scale: end -->";

    struct Args(Vec<String>);

    impl Args {
        fn get(&self, name: &str) -> Option<&str> {
            self.0
                .iter()
                .position(|a| a == name)
                .and_then(|i| self.0.get(i + 1))
                .map(String::as_str)
        }

        fn has(&self, name: &str) -> bool {
            self.0.iter().any(|a| a == name)
        }

        fn num<T: std::str::FromStr>(&self, name: &str) -> Option<T> {
            self.get(name).map(|v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("{name}: not a number: {v}"))
            })
        }
    }

    /// A run of the set: its parameters, and the producers from the load if not given.
    #[derive(Clone, Copy)]
    struct Spec {
        keys: Keys,
        shards: usize,
        load: f64,
        producers: Option<usize>,
        workload: Workload,
        duration_s: u64,
        bucket: Option<sim::Bucket>,
        limiter: sim::Limiter,
    }

    /// The standard set: session keys on 2 and 8 shards at 0.5×, 1× and 2× (the headline:
    /// 10,000 producers on 8 shards at 2× for 10 simulated minutes), random keys on 8, the
    /// article's kinesis-streamer rates on 64 (shorter: the simulation's cost grows with the
    /// bytes the producers encode, and at 2× most of what they send is throttled),
    /// and one run with the bucket allowed into debt. `quick`: shorter runs.
    fn standard(quick: bool) -> Vec<Spec> {
        let d = |full: u64, short: u64| if quick { short } else { full };
        let spec = |keys, shards, load, workload, duration_s| Spec {
            keys,
            shards,
            load,
            producers: None,
            workload,
            duration_s,
            bucket: None,
            limiter: sim::Limiter::Off,
        };
        let mut v = Vec::new();
        for &shards in &[2, 8] {
            for &load in &[0.5, 1.0, 2.0] {
                let mut s = spec(Keys::Session, shards, load, DEMO, d(120, 60));
                if shards == 8 && load == 2.0 {
                    s.producers = Some(10_000);
                    s.duration_s = d(600, 120);
                }
                v.push(s);
            }
        }
        for &load in &[0.5, 1.0, 2.0] {
            v.push(spec(Keys::Random, 8, load, DEMO, d(120, 60)));
        }
        for &load in &[0.5, 1.0, 2.0] {
            v.push(spec(Keys::Session, 64, load, STREAMER, d(30, 20)));
        }
        let mut debt = spec(Keys::Session, 2, 2.0, DEMO, d(120, 60));
        debt.bucket = Some(sim::Bucket::Debt);
        v.push(debt);
        // The core's rate limiter (`adaptiveRate: true`) beside today's default: every run
        // again with it on (but the bucket in debt, a model question, not the producer's).
        let on: Vec<Spec> = v
            .iter()
            .filter(|s| s.bucket.is_none())
            .map(|s| Spec {
                limiter: sim::Limiter::On,
                ..*s
            })
            .collect();
        v.extend(on);
        v
    }

    fn params(a: &Args, spec: &Spec, offered: &Offered) -> Params {
        let producers = spec
            .producers
            .unwrap_or_else(|| offered.producers_for(spec.load, spec.shards));
        let mut p = Params::new(producers, spec.shards);
        p.load = spec.load;
        p.keys = spec.keys;
        p.workload = spec.workload;
        p.duration_ms = spec.duration_s * 1000;
        p.measure_from_ms = a.num::<u64>("--measure-from-s").map_or(
            (p.duration_ms / 10).max(10_000).min(p.duration_ms / 2),
            |s| s * 1000,
        );
        p.drain_ms = a.num::<u64>("--drain-s").unwrap_or(0) * 1000;
        p.seed = a.num("--seed").unwrap_or(1);
        p.threads = a.num("--threads").unwrap_or(2);
        if let Some(b) = spec.bucket {
            p.bucket = b;
        }
        p.limiter = spec.limiter;
        if let Some(b) = a.get("--bucket") {
            p.bucket = sim::Bucket::parse(b).expect("--bucket strict|debt");
        }
        if let Some(m) = a.get("--all-throttled") {
            p.all_throttled = match m {
                "200" => sim::AllThrottled::Ok200,
                "400" => sim::AllThrottled::Http400,
                _ => panic!("--all-throttled 200|400"),
            };
        }
        p.persist = a.has("--persist");
        p
    }

    /// Offered load per producer, measured once per workload and key mode.
    struct Calibration(Vec<(Workload, Keys, Offered)>);

    impl Calibration {
        fn get(&mut self, a: &Args, w: Workload, k: Keys) -> Offered {
            if let Some((_, _, o)) = self.0.iter().find(|(x, y, _)| *x == w && *y == k) {
                return *o;
            }
            let mut p = Params::new(1, 1);
            p.workload = w;
            p.keys = k;
            p.seed = a.num("--seed").unwrap_or(1);
            let o = sim::calibrate(&p);
            self.0.push((w, k, o));
            o
        }
    }

    struct Done {
        report: Report,
        offered: Offered,
    }

    pub fn main() {
        let a = Args(std::env::args().skip(1).collect());
        if a.has("--core-cost") {
            for c in core_costs() {
                println!("{c:?} core per request {:.1} us", c.core_per_request_us());
            }
            return;
        }
        let started = Instant::now();
        let mut cal = Calibration(Vec::new());
        let single = a.has("--producers") || a.has("--load") || a.has("--shards");
        let limiter = a
            .get("--limiter")
            .map(|l| sim::Limiter::parse(l).expect("--limiter off|on"));
        let specs = if single {
            let workload = Workload {
                timers: a.num("--timers").unwrap_or(DEMO.timers),
                messages: a.num("--messages").unwrap_or(DEMO.messages),
                payload_bytes: a.num("--payload").unwrap_or(DEMO.payload_bytes),
            };
            vec![Spec {
                keys: a.get("--keys").map_or(Keys::Session, |k| {
                    Keys::parse(k).expect("--keys session|random")
                }),
                shards: a.num("--shards").unwrap_or(8),
                load: a.num("--load").unwrap_or(0.0),
                producers: a.num("--producers"),
                workload,
                duration_s: a.num("--duration-s").unwrap_or(60),
                bucket: None,
                limiter: limiter.unwrap_or(sim::Limiter::On),
            }]
        } else {
            // With `--limiter`, only the standard runs with the limiter so.
            let mut v = standard(a.has("--quick"));
            v.retain(|s| limiter.is_none_or(|l| s.limiter == l));
            v
        };
        let mut done = Vec::new();
        let mut total_s = None;
        if let Some(file) = a.get("--from-results") {
            // The section and the plot again, from an earlier run's results.
            let text = std::fs::read_to_string(file).expect("read the results");
            let v: serde_json::Value = serde_json::from_str(&text).expect("results JSON");
            for r in v["runs"].as_array().expect("runs") {
                let report = Report::from_json(&r["report"]);
                println!("{}", report.summary());
                done.push(Done {
                    report,
                    offered: Offered::from_json(&r["offered"]),
                });
            }
            total_s = v["wall_s"].as_f64();
        } else {
            for spec in &specs {
                let offered = cal.get(&a, spec.workload, spec.keys);
                let mut p = params(&a, spec, &offered);
                if spec.load == 0.0 {
                    p.load = round2(offered.load(p.producers, p.shards));
                }
                let report = sim::run(&p);
                println!("{}", report.summary());
                eprintln!("  {}", detail(&report, &offered));
                done.push(Done { report, offered });
            }
        }
        let total_s = total_s.unwrap_or_else(|| started.elapsed().as_secs_f64());
        eprintln!("scale: {} runs in {:.0} s", done.len(), total_s);
        if let Some(file) = a.get("--results") {
            let runs: Vec<serde_json::Value> = done
                .iter()
                .map(|d| serde_json::json!({"report": d.report.to_json(), "offered": d.offered.to_json()}))
                .collect();
            let v = serde_json::json!({"wall_s": total_s, "runs": runs});
            std::fs::write(file, v.to_string()).expect("write the results");
            eprintln!("written: {file}");
        }
        if let Some(svg) = a.get("--svg") {
            std::fs::write(svg, plot(&done)).expect("write the SVG");
            eprintln!("written: {svg}");
        }
        if let Some(file) = a.get("--benchmarks") {
            let costs = core_costs();
            let svg = a.get("--svg").unwrap_or("tests/scale/scale.svg");
            let section = markdown(&done, &costs, svg, total_s);
            let old = std::fs::read_to_string(file).unwrap_or_default();
            let new = match (old.find(START), old.find(END)) {
                (Some(s), Some(e)) if s < e => {
                    format!("{}{section}{}", &old[..s], &old[e + END.len()..])
                }
                _ => {
                    let sep = if old.is_empty() || old.ends_with("\n\n") {
                        ""
                    } else if old.ends_with('\n') {
                        "\n"
                    } else {
                        "\n\n"
                    };
                    format!("{old}{sep}{section}\n")
                }
            };
            std::fs::write(file, new).expect("write BENCHMARKS.md");
            eprintln!("written: {file}");
        }
    }

    fn core_costs() -> Vec<sim::CoreCost> {
        [1, 10, 100]
            .iter()
            .map(|&n| sim::core_cost(n, DEMO, 2_000))
            .collect()
    }

    fn round2(x: f64) -> f64 {
        (x * 100.0).round() / 100.0
    }

    fn detail(r: &Report, o: &Offered) -> String {
        let p = &r.params;
        format!(
            "keys={} offered={:.2} ({}) goodput_bytes={:.3} goodput_records={:.3} requests={} all_throttled={} per_1k_records={:.1} kinesis_sent={} stored={} p50_ms={} max_ms={} drops={:?} pending={} fairness={:.3} up_MB={:.1} down_MB={:.1} put={} received={} duplicates={} spins={} wall_s={:.1}",
            p.keys.as_str(),
            o.load(p.producers, p.shards),
            if o.bytes_bind() { "bytes bind" } else { "records bind" },
            r.goodput_bytes(),
            r.goodput_records(),
            r.kinesis_requests,
            r.requests_all_throttled,
            1000.0 * r.requests_per_record(),
            r.kinesis_sent,
            r.kinesis_stored,
            r.percentile(50.0),
            r.max_latency(),
            r.drops,
            r.pending,
            r.fairness(),
            r.bytes_up as f64 / 1e6,
            r.bytes_down as f64 / 1e6,
            r.put,
            r.received,
            r.duplicates,
            r.spins,
            r.wall_ms as f64 / 1000.0,
        )
    }

    fn thousands(n: u64) -> String {
        let s = n.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    }

    /// The headline run (10,000 producers on 8 shards) with `limiter`.
    fn is_headline(p: &Params, limiter: sim::Limiter) -> bool {
        p.producers == 10_000 && p.shards == 8 && p.limiter == limiter
    }

    fn markdown(done: &[Done], costs: &[sim::CoreCost], svg: &str, total_s: f64) -> String {
        let mut m = String::new();
        let _ = writeln!(m, "{START}");
        let _ = writeln!(m, "## Many producers, one stream (npm run scale)\n");
        let _ = writeln!(
            m,
            "A simulation, not a measurement of AWS: N instances of the producer core (`Endpoint`, \
the code the page runs, natively, time passed in) against a model of a Kinesis data stream, \
in virtual time, deterministic with a seed (tests/scale/sim.rs; the invariants it must keep \
are tests/scale_invariants.rs, run by `npm test`). {} The model:\n",
            if done.iter().all(|d| d.report.params.limiter == sim::Limiter::Off) {
                "`limiter=off`: no client-side rate limiting (`adaptiveRate: false`)."
            } else {
                "`limiter=off`: no client-side rate limiting (`adaptiveRate: false`); \
`limiter=on`: the core's adaptive rate limiter (`adaptiveRate: true`)."
            }
        );
        let _ = writeln!(
            m,
            "- S shards, the 128-bit hash key space split evenly; a record goes to the shard of \
MD5(partition key) (or its explicit hash key). Each shard is a token bucket of 1 MiB/s and \
1,000 records/s, holding 1 s of each (the burst; AWS does not document it), full at the \
start; a record passes only if it fits whole (`--bucket debt` lets it run the bucket into \
debt instead). Data plus partition key count against the bytes; a KPL aggregate is one \
record of its whole size.\n\
- A PutRecords answer is a real PutRecords JSON response the core parses: `SequenceNumber` \
and `ShardId` for stored records, `ProvisionedThroughputExceededException` with AWS's message \
(\"Rate exceeded for shard shardId-000000000001 in stream general_stream under account \
123456789012.\") for throttled ones. A request of which every record is throttled is answered \
HTTP 200 with `FailedRecordCount` equal to its records, as the PutRecords reference documents \
failures (`--all-throttled 400` answers HTTP 400 ProvisionedThroughputExceededException \
instead; the core retries both alike).\n\
- Network, each way: 20 ms plus a lognormal part (median 20 ms, σ 0.7, at most 2 s) plus the \
body at 10 Mbit/s up, 50 Mbit/s down: a median round trip of about 80 ms. No request times \
out (the longest round trip is under the core's 6 s timeout).\n\
- Each page: the producer with its defaults (flush every 1 s, batches up to 500 records or \
1 MiB, KPL aggregation on, buffer 10,000 records / 5 MiB, TTL 60 s, backoff full jitter \
100 ms × 2^n up to 5 s), no automatic capture and no persisted copy (`persistMaxBytes: 0`: \
it sends nothing; `--persist` keeps it), credentials from a URL answered at once and valid \
for the run. Pages start within the first second. The workload is the article's \
kinesis-streamer as the demo runs it: *timers* each fire every second (each at its own \
phase) and record *messages* app records of about 160 bytes (`record()`; the shell's round \
of polls after each, as in the page).\n"
        );
        let demo = done
            .iter()
            .find(|d| d.report.params.workload == DEMO && d.report.params.keys == Keys::Session)
            .map(|d| d.offered);
        let (kb, per_shard) =
            demo.map_or((0.0, 0.0), |o| (o.bytes_per_s / 1000.0, 1.0 / o.load(1, 1)));
        let _ = writeln!(
            m,
            "Offered load is against the limit that binds. With aggregation on, one request a \
second carries one aggregated record of about {kb:.1} KB per producer (demo rates): 1 \
record/s against 1,000 per shard, {kb:.1} KB/s against 1 MiB: **bytes bind** (a shard is \
full at about {per_shard:.0} producers by bytes, 1,000 by records; at the kinesis-streamer \
rates, 100 records a second, bytes bind by far). Producers per run are set from a \
calibration (a few producers unthrottled): N = load × capacity ÷ what one producer offers; \
the headline run is N = 10,000 on 8 shards at 2×. Goodput is what the stream stored from \
the window's start (a tenth of the run, at least 10 s) to the end, as a share of its byte \
(or record) capacity, whichever is larger (the bucket's first second of burst can put it a \
little over 1). Amplification: PutRecords requests sent ÷ requests needed (a request that \
stored nothing was not needed); \"up ÷ stored bytes\" is the same for bytes. p50/p99: \
capture to stored of records captured in the window that reached the stream. Lost: \
captured − stored − dropped (the core's counts, with reasons) − still pending at the end; \
it must be 0. Fairness: Jain's index over the records each producer got into the stream (1 \
is even).\n"
        );
        let _ = writeln!(
            m,
            "| limiter | keys | bucket | shards | producers | timers × messages | simulated s | offered (binds) | goodput (bytes · records) | amplification | requests / 1,000 records | p50 ms | p99 ms | dropped: expired · buffer · other | pending at end | lost | fairness | wire MB up · down | up ÷ stored bytes | wall s |"
        );
        let _ = writeln!(
            m,
            "|---|---|---|---:|---:|---|---:|---|---|---:|---:|---:|---:|---|---:|---:|---:|---|---:|---:|"
        );
        for d in done {
            let r = &d.report;
            let p = &r.params;
            let stored_bytes: u64 = r.seconds.iter().map(|s| s.stored_bytes).sum();
            let other = r.dropped - r.drop_count("expired") - r.drop_count("bufferFull");
            let _ = writeln!(
                m,
                "| {} | {} | {} | {} | {}{} | {} × {} | {} | {:.2}× ({}) | **{:.3}** ({:.3} · {:.3}) | **{:.2}** | {:.1} | {} | **{}** | {} · {} · {} | {} | **{}** | {:.3} | {} · {} | {:.1} | {:.0} |",
                p.limiter.as_str(),
                p.keys.as_str(),
                p.bucket.as_str(),
                p.shards,
                thousands(p.producers as u64),
                match (is_headline(p, sim::Limiter::Off), is_headline(p, sim::Limiter::On)) {
                    (true, _) => " (headline)",
                    (_, true) => " (headline, limiter on)",
                    _ => "",
                },
                p.workload.timers,
                p.workload.messages,
                p.duration_ms / 1000,
                d.offered.load(p.producers, p.shards),
                if d.offered.bytes_bind() { "bytes" } else { "records" },
                r.goodput(),
                r.goodput_bytes(),
                r.goodput_records(),
                r.amplification(),
                1000.0 * r.requests_per_record(),
                r.percentile(50.0),
                r.percentile(99.0),
                thousands(r.drop_count("expired")),
                thousands(r.drop_count("bufferFull")),
                thousands(other),
                thousands(r.pending),
                r.lost,
                r.fairness(),
                thousands(r.bytes_up / 1_000_000),
                thousands(r.bytes_down / 1_000_000),
                r.bytes_up as f64 / stored_bytes.max(1) as f64,
                r.wall_ms as f64 / 1000.0,
            );
        }
        let _ = writeln!(m, "\n![Goodput and amplification against offered load; the headline run over time]({svg})\n");
        let _ = writeln!(m, "The summary lines, verbatim:\n\n```text");
        for d in done {
            let _ = writeln!(m, "{}", d.report.summary());
        }
        let _ = writeln!(m, "```\n");
        if let Some(h) = done
            .iter()
            .find(|d| is_headline(&d.report.params, sim::Limiter::Off))
        {
            let r = &h.report;
            let _ =
                writeln!(
                m,
                "Against the targets of issue 15 (at 2× overload with 10,000 producers: goodput ≥ \
90% of capacity, amplification ≤ 1.5, nothing lost), the core with the limiter off: goodput {:.1}% ({}), \
amplification {:.2} ({}), lost {} ({}). But {:.1} bytes are sent for every byte stored and \
{:.1} Kinesis records for every one stored: the backoff keeps the request rate down and a \
throttled producer's next request carries at most twice what the stream took from its last \
(at least one full aggregate), yet thousands of producers each sending an aggregate offer \
the stream's capacity many times over in bytes; {} of {} records are \
dropped (at 2× about half cannot fit), p99 capture to stored is {} ms, and fairness is \
{:.2}{}.\n",
                100.0 * r.goodput(),
                if r.goodput() >= 0.9 { "met" } else { "not met" },
                r.amplification(),
                if r.amplification() <= 1.5 { "met" } else { "not met" },
                r.lost,
                if r.lost == 0 { "met" } else { "not met" },
                r.wire_amplification(),
                r.kinesis_sent as f64 / r.kinesis_stored.max(1) as f64,
                thousands(r.dropped),
                thousands(r.captured),
                r.percentile(99.0),
                r.fairness(),
                if r.params.bucket == sim::Bucket::Strict {
                    ": a producer that got through sends a small request next, which the bucket \
takes, while one that did not sends a larger one, which it refuses more often"
                } else {
                    ""
                },
            );
        }
        let headline = |l| done.iter().find(|d| is_headline(&d.report.params, l));
        if let (Some(off), Some(on)) = (headline(sim::Limiter::Off), headline(sim::Limiter::On)) {
            let (off, on) = (&off.report, &on.report);
            let wall = |r: &Report| r.wall_ms as f64 / 1000.0;
            let _ =
                writeln!(
                m,
                "With the core's rate limiter on (`adaptiveRate: true`, src/limiter.rs: the SDKs' \
adaptive mode in bytes a second, a request carrying one second of the rate, at least 1 KiB \
when aggregating, and holding the next back by its bytes), the headline run, off → on: \
goodput {:.3} → {:.3}, amplification {:.2} → {:.2} ({}), {:.1} → {:.1} bytes up for each byte \
stored ({} → {} MB up), fairness {:.2} → {:.2}, p50 {} → {} ms and p99 {} → {} ms, lost {} → \
{}, wall {:.0} → {:.0} s. Paced at its share, every page's backlog waits in order until its \
time to live, so what is stored is old; without it the pages that get through send fresh \
records and the others none. The core's default: `adaptiveRate: {}`.\n",
                off.goodput(),
                on.goodput(),
                off.amplification(),
                on.amplification(),
                if on.amplification() <= 1.5 { "met" } else { "not met" },
                off.wire_amplification(),
                on.wire_amplification(),
                thousands(off.bytes_up / 1_000_000),
                thousands(on.bytes_up / 1_000_000),
                off.fairness(),
                on.fairness(),
                off.percentile(50.0),
                on.percentile(50.0),
                off.percentile(99.0),
                on.percentile(99.0),
                off.lost,
                on.lost,
                wall(off),
                wall(on),
                kinesis_browser_producer::config::Settings::default().adaptive_rate,
            );
        }
        let short: Vec<String> = done
            .iter()
            .filter(|d| d.report.params.duration_ms <= 60_000)
            .map(|d| {
                format!(
                    "{} shards at {}×",
                    d.report.params.shards, d.report.params.load
                )
            })
            .fold(Vec::new(), |mut v, s| {
                if !v.contains(&s) {
                    v.push(s);
                }
                v
            });
        if !short.is_empty() {
            let _ = writeln!(
                m,
                "Runs of a minute or less ({}) end before records reach the 60 s time to live: \
what did not fit is still pending, not yet dropped.\n",
                short.join(", ")
            );
        }
        if done
            .iter()
            .any(|d| d.report.params.bucket == sim::Bucket::Debt)
        {
            let _ = writeln!(
                m,
                "With the bucket allowed into debt (`--bucket debt`), a large backlogged \
aggregate passes whenever the bucket is not empty, and the shard then refuses everything \
until the debt is paid: fewer, larger records get through, with many more wasted requests \
and longer waits. How AWS meters its burst is not documented, and the outcome depends on it \
as much as on the producers.\n"
            );
        }
        let _ = writeln!(
            m,
            "What one PutRecords cycle costs the core here (one endpoint, medians of 2,000 \
cycles, µs; native, not wasm, with the simulation's allocator, which hands freed blocks out \
again by size class): the records (`record()` and the polls after it), the request \
(`poll_transmit`: batch, aggregate, body, SigV4), of which signing alone, and the answer \
(`handle_response`); and the simulation's own work per request (reading the body, \
decoding what was stored, writing the answer).\n"
        );
        let _ = writeln!(m, "| records a request | body bytes | per record | request | of which signing | answer | core per request | simulation per request |");
        let _ = writeln!(m, "|---:|---:|---:|---:|---:|---:|---:|---:|");
        for c in costs {
            let _ = writeln!(
                m,
                "| {} | {} | {:.2} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
                c.records,
                thousands(c.body_bytes as u64),
                c.record_us,
                c.transmit_us,
                c.sign_us,
                c.response_us,
                c.core_per_request_us(),
                c.sim_us
            );
        }
        let runs: Vec<&Report> = [sim::Limiter::Off, sim::Limiter::On]
            .into_iter()
            .filter_map(|l| done.iter().find(|d| is_headline(&d.report.params, l)))
            .map(|d| &d.report)
            .collect();
        if !runs.is_empty() {
            let each: Vec<String> = runs
                .iter()
                .map(|r| {
                    let wall = r.wall_ms as f64 / 1000.0;
                    format!(
                        "with the limiter {} it took {:.0} s of wall time for {} PutRecords \
requests carrying {:.1} GB ({:.0} µs a request, {:.1} ns a byte sent, {:.1} µs a record \
captured, on {} threads)",
                        r.params.limiter.as_str(),
                        wall,
                        thousands(r.kinesis_requests),
                        r.bytes_up as f64 / 1e9,
                        1e6 * wall / r.kinesis_requests.max(1) as f64,
                        1e9 * wall / r.bytes_up.max(1) as f64,
                        1e6 * wall / r.captured.max(1) as f64,
                        r.params.threads,
                    )
                })
                .collect();
            let best = runs.iter().map(|r| r.wall_ms).min().unwrap_or(0);
            let _ = writeln!(
                m,
                "\nAt scale it costs more. The headline run ({} simulated s): {}. The core \
encodes every record of a batch again at every attempt (the aggregate and its MD5, the base64 \
body, the body's SHA-256 for the signature: about a quarter of the time with the limiter on, \
by perf), and 10,000 endpoints holding some 6 million records do not fit in the caches \
(copying a record buffered a minute before, and the allocator: about a fifth); without the limiter the bytes the core encodes, and the \
simulation's time, grow with the throttling, and with it what is left is the records \
themselves, each made, buffered and expired or sent. The target of 10 simulated minutes of \
10,000 producers in under a minute is {}.",
                runs[0].params.duration_ms / 1000,
                each.join("; "),
                if best <= 60_000 { "met" } else { "not met" },
            );
        }
        let _ = writeln!(
            m,
            "\n{} runs in {:.0} s of wall time ({} threads; the figures do not depend on the \
thread count). Machine: {} cores.",
            done.len(),
            total_s,
            done.first().map_or(2, |d| d.report.params.threads),
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        let _ = write!(m, "{END}");
        m
    }

    fn esc(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    }

    /// Goodput and amplification against offered load, one line per series; the headline
    /// run's seconds below.
    fn plot(done: &[Done]) -> String {
        let (w, h) = (960.0, 640.0);
        let mut s = String::new();
        let _ = writeln!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">"
        );
        let _ = writeln!(s, "<rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>");
        let colors = [
            "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
        ];
        // Series: by keys, shards and workload.
        let mut series: Vec<(String, Vec<&Done>)> = Vec::new();
        for d in done {
            let p = &d.report.params;
            let name = format!(
                "{} keys, {} shards, {}×{}{}",
                p.keys.as_str(),
                p.shards,
                p.workload.timers,
                p.workload.messages,
                match (p.bucket, p.limiter) {
                    (sim::Bucket::Debt, _) => ", debt",
                    (_, sim::Limiter::On) => ", limiter on",
                    _ => "",
                }
            );
            match series.iter_mut().find(|(n, _)| *n == name) {
                Some((_, v)) => v.push(d),
                None => series.push((name, vec![d])),
            }
        }
        for v in series.iter_mut() {
            v.1.sort_by(|a, b| {
                let la = a
                    .offered
                    .load(a.report.params.producers, a.report.params.shards);
                let lb = b
                    .offered
                    .load(b.report.params.producers, b.report.params.shards);
                la.partial_cmp(&lb).expect("no NaN")
            });
        }
        let max_load = done
            .iter()
            .map(|d| {
                d.offered
                    .load(d.report.params.producers, d.report.params.shards)
            })
            .fold(2.0, f64::max)
            .ceil();
        let max_amp = done
            .iter()
            .map(|d| d.report.amplification())
            .fold(2.0, f64::max)
            .ceil();
        struct Panel {
            x: f64,
            y: f64,
            w: f64,
            h: f64,
            xmax: f64,
            ymax: f64,
        }
        impl Panel {
            fn px(&self, x: f64) -> f64 {
                self.x + x / self.xmax * self.w
            }
            fn py(&self, y: f64) -> f64 {
                self.y + self.h - y / self.ymax * self.h
            }
        }
        let axes = |s: &mut String,
                    p: &Panel,
                    title: &str,
                    xl: &str,
                    yl: &str,
                    xticks: &[f64],
                    yticks: &[f64],
                    fmt_y: &dyn Fn(f64) -> String| {
            let _ = writeln!(
                s,
                "<text x=\"{}\" y=\"{}\" font-size=\"14\" font-weight=\"bold\">{}</text>",
                p.x,
                p.y - 12.0,
                esc(title)
            );
            let _ = writeln!(s, "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#888\"/>", p.x, p.y, p.w, p.h);
            for &t in xticks {
                let _ = writeln!(s, "<line x1=\"{0:.1}\" y1=\"{1}\" x2=\"{0:.1}\" y2=\"{2}\" stroke=\"#eee\"/><text x=\"{0:.1}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>", p.px(t), p.y, p.y + p.h, p.y + p.h + 14.0, t);
            }
            for &t in yticks {
                let _ = writeln!(s, "<line x1=\"{1}\" y1=\"{0:.1}\" x2=\"{2}\" y2=\"{0:.1}\" stroke=\"#eee\"/><text x=\"{3}\" y=\"{4:.1}\" text-anchor=\"end\">{5}</text>", p.py(t), p.x, p.x + p.w, p.x - 4.0, p.py(t) + 4.0, fmt_y(t));
            }
            let _ = writeln!(
                s,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                p.x + p.w / 2.0,
                p.y + p.h + 30.0,
                esc(xl)
            );
            let _ = writeln!(s, "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 {} {})\">{}</text>", p.x - 38.0, p.y + p.h / 2.0, p.x - 38.0, p.y + p.h / 2.0, esc(yl));
        };
        let loads: Vec<f64> = (0..=(max_load * 2.0) as usize)
            .map(|i| i as f64 / 2.0)
            .collect();
        let max_wire = done
            .iter()
            .map(|d| d.report.wire_amplification())
            .fold(2.0, f64::max);
        let max_wire = (max_wire / 5.0).ceil() * 5.0;
        let top = |x: f64, ymax: f64| Panel {
            x,
            y: 40.0,
            w: 250.0,
            h: 200.0,
            xmax: max_load,
            ymax,
        };
        // Goodput.
        let g = top(60.0, 1.2);
        axes(
            &mut s,
            &g,
            "Goodput (share of capacity)",
            "offered load (× capacity)",
            "goodput",
            &loads,
            &[0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2],
            &|t| format!("{t:.1}"),
        );
        let _ = writeln!(s, "<polyline fill=\"none\" stroke=\"#999\" stroke-dasharray=\"4 3\" points=\"{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}\"/>", g.px(0.0), g.py(0.0), g.px(1.0), g.py(1.0), g.px(max_load), g.py(1.0));
        let _ = writeln!(s, "<line x1=\"{0}\" y1=\"{1:.1}\" x2=\"{2}\" y2=\"{1:.1}\" stroke=\"#2ca02c\" stroke-dasharray=\"2 2\"/><text x=\"{3}\" y=\"{4:.1}\" fill=\"#2ca02c\">target 0.9</text>", g.px(1.5), g.py(0.9), g.px(max_load), g.px(1.5), g.py(0.9) + 13.0);
        // Amplification.
        let a = top(375.0, max_amp);
        let aticks: Vec<f64> = (0..=(max_amp as usize)).map(|i| i as f64).collect();
        axes(
            &mut s,
            &a,
            "Requests sent ÷ needed",
            "offered load (× capacity)",
            "amplification",
            &loads,
            &aticks,
            &|t| format!("{t:.0}"),
        );
        let _ = writeln!(s, "<line x1=\"{0}\" y1=\"{1:.1}\" x2=\"{2}\" y2=\"{1:.1}\" stroke=\"#2ca02c\" stroke-dasharray=\"2 2\"/><text x=\"{3}\" y=\"{4:.1}\" fill=\"#2ca02c\">target 1.5</text>", a.px(1.5), a.py(1.5), a.px(max_load), a.px(1.5), a.py(1.5) - 4.0);
        // Bytes.
        let b = top(690.0, max_wire);
        let bticks: Vec<f64> = (0..=(max_wire as usize / 5))
            .map(|i| 5.0 * i as f64)
            .collect();
        axes(
            &mut s,
            &b,
            "Bytes sent ÷ bytes stored",
            "offered load (× capacity)",
            "wire amplification",
            &loads,
            &bticks,
            &|t| format!("{t:.0}"),
        );
        // A series with the limiter on: its limiter-off series' colour, dashed.
        let bases: Vec<&str> = series
            .iter()
            .map(|(n, _)| n.trim_end_matches(", limiter on"))
            .filter(|n| !n.is_empty())
            .fold(Vec::new(), |mut v, n| {
                if !v.contains(&n) {
                    v.push(n);
                }
                v
            });
        for (i, (name, runs)) in series.iter().enumerate() {
            let base = name.trim_end_matches(", limiter on");
            let ci = bases.iter().position(|b| *b == base).unwrap_or(i);
            let c = colors[ci % colors.len()];
            let dash = if base.len() < name.len() {
                " stroke-dasharray=\"6 4\""
            } else {
                ""
            };
            for (panel, f) in [(&g, 0), (&a, 1), (&b, 2)] {
                let pts: Vec<String> = runs
                    .iter()
                    .map(|d| {
                        let x = d
                            .offered
                            .load(d.report.params.producers, d.report.params.shards);
                        let y = match f {
                            0 => d.report.goodput(),
                            1 => d.report.amplification(),
                            _ => d.report.wire_amplification(),
                        };
                        format!("{:.1},{:.1}", panel.px(x), panel.py(y.min(panel.ymax)))
                    })
                    .collect();
                let _ = writeln!(
                    s,
                    "<polyline fill=\"none\" stroke=\"{c}\" stroke-width=\"2\"{dash} points=\"{}\"/>",
                    pts.join(" ")
                );
                for pt in &pts {
                    let (x, y) = pt.split_once(',').expect("a point");
                    let _ = writeln!(s, "<circle cx=\"{x}\" cy=\"{y}\" r=\"3.5\" fill=\"{c}\"/>");
                }
            }
            let (lx, ly) = (60.0 + 300.0 * (i % 3) as f64, 290.0 + 16.0 * (i / 3) as f64);
            let _ = writeln!(s, "<line x1=\"{lx}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{c}\" stroke-width=\"3\"{dash}/><text x=\"{}\" y=\"{}\">{}</text>", ly + 1.5, lx + 20.0, ly + 1.5, lx + 26.0, ly + 4.0, esc(name));
        }
        // The headline run, second by second.
        if let Some(hd) = done
            .iter()
            .find(|d| is_headline(&d.report.params, sim::Limiter::On))
            .or_else(|| {
                done.iter()
                    .find(|d| is_headline(&d.report.params, sim::Limiter::Off))
            })
            .or(done.first())
        {
            let r = &hd.report;
            let p = &r.params;
            let secs = (p.duration_ms / 1000) as usize;
            let t = Panel {
                x: 60.0,
                y: 360.0,
                w: 880.0,
                h: 200.0,
                xmax: secs as f64,
                ymax: 1.2,
            };
            let step = if secs > 300 {
                60
            } else if secs > 60 {
                20
            } else {
                10
            };
            let xt: Vec<f64> = (0..=secs).step_by(step).map(|i| i as f64).collect();
            let title = format!(
                "{} producers, {} shards, {} keys, load {}×: each second",
                p.producers,
                p.shards,
                p.keys.as_str(),
                p.load
            );
            axes(
                &mut s,
                &t,
                &title,
                "simulated seconds",
                "share",
                &xt,
                &[0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2],
                &|v| format!("{v:.1}"),
            );
            let cap = p.shards as f64 * sim::SHARD_BYTES_PER_S;
            type Line<'a> = (&'a str, &'a str, Box<dyn Fn(&sim::Second) -> f64>);
            let lines: [Line<'_>; 2] = [
                (
                    "stored bytes ÷ capacity",
                    "#1f77b4",
                    Box::new(move |s: &sim::Second| s.stored_bytes as f64 / cap),
                ),
                (
                    "requests wholly throttled ÷ requests",
                    "#d62728",
                    Box::new(|s: &sim::Second| s.all_throttled as f64 / s.requests.max(1) as f64),
                ),
            ];
            for (i, (name, c, f)) in lines.iter().enumerate() {
                let pts: Vec<String> = r
                    .seconds
                    .iter()
                    .take(secs)
                    .enumerate()
                    .map(|(k, sec)| {
                        format!("{:.1},{:.1}", t.px(k as f64 + 0.5), t.py(f(sec).min(1.2)))
                    })
                    .collect();
                let _ = writeln!(
                    s,
                    "<polyline fill=\"none\" stroke=\"{c}\" stroke-width=\"1.5\" points=\"{}\"/>",
                    pts.join(" ")
                );
                let _ = writeln!(s, "<rect x=\"{}\" y=\"612\" width=\"12\" height=\"3\" fill=\"{c}\"/><text x=\"{}\" y=\"616\">{}</text>", 70.0 + 300.0 * i as f64, 86.0 + 300.0 * i as f64, esc(name));
            }
        }
        let _ = writeln!(s, "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#666\">npm run scale · {} · a simulation</text>", w - 10.0, h - 8.0, if done.iter().all(|d| d.report.params.limiter == sim::Limiter::Off) { "limiter=off" } else { "limiter=off and on" });
        let _ = writeln!(s, "</svg>");
        s
    }
}

/// The simulation's allocator: freed blocks are kept per size class in a free list of the
/// thread that freed them and handed out again, else the system allocator. The core
/// allocates and frees a copy of every record of every attempt (batch, aggregate, body);
/// glibc's malloc spent a third of a run on that. Not the core's cost in a page (wasm uses
/// its own allocator), only the simulation's.
#[cfg(not(target_arch = "wasm32"))]
mod pool {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    /// Classes: 4 per power of two from 16 bytes to 4 MiB (at most 25% of a block unused).
    const CLASSES: usize = 4 * 19;
    const MAX: usize = 4 << 20;
    const ALIGN: usize = 16;

    fn class(size: usize) -> usize {
        let size = size.max(16);
        let p = usize::BITS - 1 - (size - 1).leading_zeros(); // 2^p < size <= 2^(p+1) (size > 16)
        let p = p.max(3) as usize; // size in (2^p, 2^(p+1)]
        let base = 1usize << p;
        let quarter = base / 4;
        let sub = (size - base).div_ceil(quarter).clamp(1, 4) - 1;
        (p - 3) * 4 + sub
    }

    fn class_size(c: usize) -> usize {
        let p = c / 4 + 3;
        let base = 1usize << p;
        base + (c % 4 + 1) * (base / 4)
    }

    thread_local! {
        static FREE: [Cell<*mut u8>; CLASSES] = const { [const { Cell::new(std::ptr::null_mut()) }; CLASSES] };
    }

    pub struct Pool;

    unsafe impl GlobalAlloc for Pool {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            if l.size() > MAX || l.align() > ALIGN {
                return unsafe { System.alloc(l) };
            }
            let c = class(l.size());
            let head = FREE.try_with(|f| {
                let p = f[c].get();
                if !p.is_null() {
                    // SAFETY: a free block holds the next free block's address.
                    f[c].set(unsafe { *(p as *mut *mut u8) });
                }
                p
            });
            match head {
                Ok(p) if !p.is_null() => p,
                _ => unsafe {
                    System.alloc(Layout::from_size_align_unchecked(class_size(c), ALIGN))
                },
            }
        }

        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            if l.size() > MAX || l.align() > ALIGN {
                return unsafe { System.dealloc(p, l) };
            }
            let c = class(l.size());
            let kept = FREE.try_with(|f| {
                // SAFETY: the block is at least 16 bytes and 16-aligned.
                unsafe { *(p as *mut *mut u8) = f[c].get() };
                f[c].set(p);
            });
            if kept.is_err() {
                unsafe {
                    System.dealloc(p, Layout::from_size_align_unchecked(class_size(c), ALIGN))
                };
            }
        }

        unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
            if l.size() <= MAX && new <= MAX && l.align() <= ALIGN && class(l.size()) == class(new)
            {
                return p;
            }
            let nl = unsafe { Layout::from_size_align_unchecked(new, l.align()) };
            let q = unsafe { self.alloc(nl) };
            if !q.is_null() {
                unsafe { std::ptr::copy_nonoverlapping(p, q, l.size().min(new)) };
                unsafe { self.dealloc(p, l) };
            }
            q
        }
    }

    #[test]
    fn classes() {
        for s in 1..100_000usize {
            let c = class(s);
            assert!(class_size(c) >= s.max(16), "{s}");
            if c > 0 {
                assert!(class_size(c - 1) < s.max(16), "{s} {c}");
            }
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static POOL: pool::Pool = pool::Pool;
