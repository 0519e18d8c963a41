#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
use criterion::{Criterion, criterion_group, criterion_main};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use std::hint::black_box;
fn b(c: &mut Criterion) {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).unwrap());
    let data = vec![0x5Au8; 1024];
    for aadlen in [0usize, 16, 32, 48, 64, 83, 96] {
        let aad = vec![1u8; aadlen];
        c.bench_function(&format!("aad{aadlen}"), |bch| {
            bch.iter(|| {
                let mut buf = Vec::with_capacity(1024 + 16);
                buf.extend_from_slice(black_box(&data));
                key.seal_in_place_append_tag(
                    Nonce::assume_unique_for_key([0; 12]),
                    Aad::from(&aad[..]),
                    &mut buf,
                )
                .unwrap();
                buf
            })
        });
    }
    c.bench_function("alloc_small_vec", |bch| {
        bch.iter(|| {
            let mut v = Vec::with_capacity(black_box(90));
            v.extend_from_slice(black_box(&data[..83]));
            v
        })
    });
}
criterion_group!(benches, b);
criterion_main!(benches);
