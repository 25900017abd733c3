//! Inverse DCTs at 1/8, 1/4, 1/2 and full scale, in f32.
//!
//! Sampling the 8x8 block's cosine sum at the centres of an NxN grid gives an N-point inverse
//! DCT of the N lowest frequencies with the same scale factors as the full one,
//! `c(u) / 2 * cos((2x + 1) u pi / 2N)`: the block's mean is kept and the frequencies an NxN
//! image cannot hold are dropped, so a reduced decode needs only those coefficients.

/// The transforms for one output scale.
pub(super) struct Idct {
    /// Samples per block side: 1, 2, 4 or 8.
    size: usize,
    m2: [[f32; 2]; 2],
    m4: [[f32; 4]; 4],
    m8: [[f32; 8]; 8],
}

impl Idct {
    /// The transforms giving `size` (1, 2, 4 or 8) samples per block side.
    pub fn new(size: usize) -> Idct {
        Idct {
            size,
            m2: matrix(),
            m4: matrix(),
            m8: matrix(),
        }
    }

    /// Transforms `coefficients` (dequantised, natural order; only the `size` x `size` low
    /// ones are read) into `size` rows of `size` samples at `at` in `out`, rows `stride` apart.
    /// Rows that would fall outside `out` are left out.
    #[inline]
    pub fn block(&self, coefficients: &[f32; 64], out: &mut [u8], at: usize, stride: usize) {
        match self.size {
            1 => {
                if let Some(sample) = out.get_mut(at) {
                    *sample = to_sample(coefficients[0] / 8.0);
                }
            }
            2 => transform(&self.m2, coefficients, out, at, stride),
            4 => transform(&self.m4, coefficients, out, at, stride),
            _ => transform(&self.m8, coefficients, out, at, stride),
        }
    }
}

/// `m[x][u]`: the weight of frequency `u` at sample `x` of an N-point reduced inverse DCT.
fn matrix<const N: usize>() -> [[f32; N]; N] {
    let mut m = [[0.0; N]; N];
    for (x, row) in m.iter_mut().enumerate() {
        for (u, weight) in row.iter_mut().enumerate() {
            let c = if u == 0 {
                std::f64::consts::FRAC_1_SQRT_2
            } else {
                1.0
            };
            let angle = (2 * x + 1) as f64 * u as f64 * std::f64::consts::PI / (2 * N) as f64;
            *weight = (c / 2.0 * angle.cos()) as f32;
        }
    }
    m
}

/// Rows first, then columns; a row with no AC coefficients is one multiplication.
#[inline(always)]
fn transform<const N: usize>(
    m: &[[f32; N]; N],
    coefficients: &[f32; 64],
    out: &mut [u8],
    at: usize,
    stride: usize,
) {
    let mut rows = [[0.0f32; N]; N];
    for (v, row) in rows.iter_mut().enumerate() {
        let frequencies = &coefficients[v * 8..v * 8 + N];
        if frequencies[1..].iter().all(|&f| f == 0.0) {
            row.fill(m[0][0] * frequencies[0]);
            continue;
        }
        for (x, sample) in row.iter_mut().enumerate() {
            *sample = m[x].iter().zip(frequencies).map(|(w, f)| w * f).sum();
        }
    }
    for (y, weights) in m.iter().enumerate() {
        let start = at + y * stride;
        let Some(line) = out.get_mut(start..start + N) else {
            return;
        };
        for (x, sample) in line.iter_mut().enumerate() {
            let value: f32 = weights.iter().zip(&rows).map(|(w, row)| w * row[x]).sum();
            *sample = to_sample(value);
        }
    }
}

/// Level-shifts, rounds and clamps a sample; `as` saturates, and turns NaN into 0.
#[inline(always)]
fn to_sample(value: f32) -> u8 {
    (value + 128.5) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dc_only_block_is_flat_at_every_scale() {
        let mut coefficients = [0.0; 64];
        coefficients[0] = 80.0;
        for size in [1, 2, 4, 8] {
            let mut out = vec![0u8; size * size];

            Idct::new(size).block(&coefficients, &mut out, 0, size);

            assert!(out.iter().all(|&s| s == 138), "{size}: {out:?}");
        }
    }

    #[test]
    fn a_horizontal_frequency_gives_the_same_sampled_cosine_on_every_row() {
        // Frequency (0, 1) weighs c(0) / 2 down the block and 1/2 across.
        let mut coefficients = [0.0; 64];
        coefficients[1] = 200.0;
        let mut half = vec![0u8; 16];

        Idct::new(4).block(&coefficients, &mut half, 0, 4);

        for x in 0..4 {
            let angle = (2.0 * x as f64 + 1.0) * std::f64::consts::PI / 8.0;
            let expected = 128.0 + 200.0 * std::f64::consts::FRAC_1_SQRT_2 / 4.0 * angle.cos();
            assert!(
                (f64::from(half[x]) - expected).abs() <= 0.5,
                "{x}: {half:?}"
            );
            assert_eq!(half[x], half[12 + x]);
        }
    }

    #[test]
    fn samples_saturate_instead_of_wrapping() {
        assert_eq!(to_sample(1000.0), 255);
        assert_eq!(to_sample(-1000.0), 0);
        assert_eq!(to_sample(f32::NAN), 0);
    }
}
