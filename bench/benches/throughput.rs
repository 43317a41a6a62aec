//! Side-by-side throughput: libwebsocket (through its C API and a fake port)
//! vs tungstenite vs embedded-websocket, fed identical server byte streams in
//! 1460-byte segments; the send path (masking + framing); masking vs copy.
//!
//! Every iteration checks what the engine delivered, so a broken engine fails
//! the run instead of producing a fast number.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wsbench::ours::Client;
use wsbench::peers::{Embedded, Tung};
use wsbench::workloads::{self, BIG_SIZE};

fn leak(v: Vec<u8>) -> &'static [u8] {
    Box::leak(v.into_boxed_slice())
}

fn receive(c: &mut Criterion) {
    for w in workloads::all() {
        let stream: &'static [u8] = leak(w.stream.clone());
        let (msgs, bytes) = (w.messages as u64, w.payload_bytes as u64);
        let mut g = c.benchmark_group(w.name);
        g.throughput(Throughput::Elements(msgs));

        let mut ours = Client::open().unwrap_or_else(|e| panic!("libwebsocket: open: {e:?}"));
        g.bench_function("ours", |b| {
            b.iter(|| {
                let (m0, b0) = (ours.messages(), ours.bytes());
                ours.feed(black_box(stream));
                if ours.messages() - m0 != msgs || ours.bytes() - b0 != bytes {
                    panic!(
                        "libwebsocket delivered {} messages / {} bytes, expected {msgs} / {bytes} (failure {:?})",
                        ours.messages() - m0,
                        ours.bytes() - b0,
                        ours.failure()
                    );
                }
            })
        });
        assert_eq!(
            ours.bad_opcodes(),
            0,
            "libwebsocket: wrong opcode delivered"
        );
        drop(ours);

        let mut tung = Tung::open();
        g.bench_function("tungstenite", |b| {
            b.iter(|| {
                let got = tung.receive(black_box(stream), w.messages).unwrap();
                assert_eq!(got, bytes, "tungstenite payload bytes");
            })
        });

        // A trial run first: a peer that cannot take the workload is left out
        // of the table (with the reason) instead of failing the whole run.
        let mut emb = Embedded::open(BIG_SIZE);
        match emb.receive(stream) {
            Ok(got) if got == (msgs, bytes) => {
                g.bench_function("embedded-websocket", |b| {
                    b.iter(|| {
                        let got = emb.receive(black_box(stream)).unwrap();
                        assert_eq!(got, (msgs, bytes), "embedded-websocket messages/bytes");
                    })
                });
            }
            other => eprintln!("{}: embedded-websocket not benchmarked: {other:?}", w.name),
        }
        g.finish();
    }
}

fn send(c: &mut Criterion) {
    for size in [16usize, 1000] {
        let payload: &'static [u8] = leak((0..size).map(|i| (i * 7 + 3) as u8).collect());
        let mut g = c.benchmark_group(format!("send_{size}B"));
        g.throughput(Throughput::Elements(1));

        let mut ours = Client::open().unwrap_or_else(|e| panic!("libwebsocket: open: {e:?}"));
        let before = ours.sent_bytes();
        g.bench_function("ours", |b| {
            b.iter(|| {
                let rc = ours.send(2, black_box(payload));
                assert_eq!(rc, 0, "ws_send_long");
            })
        });
        // Zero when a filter (`cargo bench -- mask`) skipped this bench.
        let framed = ours.sent_bytes() - before;
        assert!(
            framed.is_multiple_of(size as u64 + 6 + if size > 125 { 2 } else { 0 }),
            "libwebsocket sent {framed} bytes: not a whole number of masked frames"
        );
        drop(ours);

        // Framing and masking alone, into a buffer, as the peers below do
        // (no port call, no ws_event_sent): the library's frame encoder with
        // a mask from the same kind of generator embedded-websocket gets.
        let mut out = vec![0u8; size + 14];
        let mut rng = wsbench::DetRng::new(7);
        g.bench_function("ours-framing", |b| {
            b.iter(|| {
                let p = black_box(payload);
                let mut mask = [0u8; 4];
                rng.fill(&mut mask);
                let h = websocket::frame::write_header(&mut out, true, 2, p.len(), mask);
                assert!(h > 0);
                websocket::frame::mask_into(&mut out[h..h + p.len()], p, mask, 0);
                h + p.len()
            })
        });
        // Unmasking the last frame gives the payload back (all zero: skipped
        // by a filter).
        let h = websocket::frame::header_len(size);
        let mask = [out[h - 4], out[h - 3], out[h - 2], out[h - 1]];
        let mut back = vec![0u8; size];
        websocket::frame::mask_into(&mut back, &out[h..h + size], mask, 0);
        assert!(
            back == payload || out.iter().all(|&b| b == 0),
            "ours-framing: wrong frame"
        );

        let mut tung = Tung::open();
        g.bench_function("tungstenite", |b| {
            b.iter(|| tung.send(black_box(payload)).unwrap())
        });
        // Zero as well when a filter skipped this bench.
        assert!(
            tung.written()
                .is_multiple_of(size as u64 + 6 + if size > 125 { 2 } else { 0 }),
            "tungstenite wrote {} bytes: not a whole number of masked frames",
            tung.written()
        );

        let mut emb = Embedded::open(size);
        g.bench_function("embedded-websocket", |b| {
            b.iter(|| {
                let n = emb.send(black_box(payload)).unwrap();
                assert!(n > size);
            })
        });
        g.finish();
    }
}

fn masking(c: &mut Criterion) {
    for (name, size) in [("mask_1KiB", 1024usize), ("mask_64KiB", BIG_SIZE)] {
        let src: Vec<u8> = (0..size).map(|i| (i * 13 + 1) as u8).collect();
        let mut dst = vec![0u8; size];
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function("mask_into", |b| {
            b.iter(|| {
                websocket::frame::mask_into(
                    black_box(&mut dst),
                    black_box(&src),
                    [0x12, 0x34, 0x56, 0x78],
                    0,
                )
            })
        });
        // Masking twice with the same key is the identity (dst is masked
        // here too: a filtered run skips the benchmark above).
        websocket::frame::mask_into(&mut dst, &src, [0x12, 0x34, 0x56, 0x78], 0);
        let mut back = vec![0u8; size];
        websocket::frame::mask_into(&mut back, &dst, [0x12, 0x34, 0x56, 0x78], 0);
        assert_eq!(back, src, "mask_into is not an involution");
        g.bench_function("copy", |b| {
            b.iter(|| black_box(&mut dst).copy_from_slice(black_box(&src)))
        });
        g.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1500))
        .without_plots()
}

criterion_group! {
    name = benches;
    config = config();
    targets = receive, send, masking
}
criterion_main!(benches);
