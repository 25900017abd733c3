//! The public id encoding Chevereto uses in viewer URLs and API replies, so that links
//! minted by sajin look like, and decode like, the ones a Chevereto install with the same
//! salt and padding would produce.
//!
//! The scheme: the 62-character alphabet `a-z0-9A-Z` is reordered by the hex digits of
//! SHA-256(salt) in descending order (ties in ascending character order), the id is
//! multiplied by the padding, and the product is written in base 62 over the reordered
//! alphabet, most significant digit first.

use std::fmt;

use sha2::{Digest, Sha256};

/// The alphabet before the salt reorders it; the order matters for compatibility.
const BASE_ALPHABET: &[u8; BASE] =
    b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

const BASE: usize = 62;

/// Marks a byte that is not a digit of the alphabet in the reverse lookup table.
const NOT_A_DIGIT: u8 = u8::MAX;

/// Turns database ids into short public strings and back.
#[derive(Clone)]
pub struct IdCodec {
    alphabet: [u8; BASE],
    digit_of: [u8; 256],
    multiplier: u64,
}

impl IdCodec {
    /// Builds the codec for a salt and an id padding. A padding of 0 means "no padding",
    /// which is the same as a padding of 1.
    pub fn new(salt: &str, padding: u64) -> Self {
        let alphabet = salted_alphabet(salt);
        let mut digit_of = [NOT_A_DIGIT; 256];
        for (digit, &byte) in (0u8..).zip(alphabet.iter()) {
            digit_of[usize::from(byte)] = digit;
        }

        Self {
            alphabet,
            digit_of,
            multiplier: padding.max(1),
        }
    }

    /// Encodes an id. Ids start at 1; 0 encodes to the zero digit, which
    /// [`decode`](Self::decode) refuses.
    pub fn encode(&self, id: u64) -> String {
        // u64 × u64 always fits in u128, so large ids with a large padding cannot overflow.
        let mut value = u128::from(id) * u128::from(self.multiplier);
        let mut reversed = Vec::new();
        loop {
            reversed.push(self.alphabet[(value % BASE as u128) as usize]);
            value /= BASE as u128;
            if value == 0 {
                break;
            }
        }

        reversed
            .iter()
            .rev()
            .map(|&byte| char::from(byte))
            .collect()
    }

    /// Decodes a public id, or `None` when the string cannot have come from
    /// [`encode`](Self::encode) for an id of at least 1.
    pub fn decode(&self, encoded: &str) -> Option<u64> {
        let digits = self.digits(encoded)?;

        // A leading zero digit would make a second spelling of the same id; refusing it keeps
        // `encode(decode(s)) == s` true, so each id has exactly one public URL.
        if digits.first() == Some(&0) {
            return None;
        }

        let value = digits.iter().try_fold(0u128, |acc, &digit| {
            acc.checked_mul(BASE as u128)?
                .checked_add(u128::from(digit))
        })?;

        self.unpad(value)
    }

    fn digits(&self, encoded: &str) -> Option<Vec<u8>> {
        if encoded.is_empty() {
            return None;
        }

        encoded
            .bytes()
            .map(|byte| Some(self.digit_of[usize::from(byte)]).filter(|&d| d != NOT_A_DIGIT))
            .collect()
    }

    fn unpad(&self, value: u128) -> Option<u64> {
        let multiplier = u128::from(self.multiplier);
        if !value.is_multiple_of(multiplier) {
            return None;
        }

        let id = u64::try_from(value / multiplier).ok()?;
        (id >= 1).then_some(id)
    }
}

impl fmt::Debug for IdCodec {
    // The alphabet is derived from the salt and lets anyone enumerate ids, so it stays out of
    // logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdCodec")
            .field("multiplier", &self.multiplier)
            .finish_non_exhaustive()
    }
}

/// Reorders the base alphabet by the salt's hash, the way PHP's
/// `array_multisort($hash_chars, SORT_DESC, $alphabet_chars)` does: hash digits descending,
/// ties broken by the alphabet character ascending.
fn salted_alphabet(salt: &str) -> [u8; BASE] {
    let hash = hex::encode(Sha256::digest(salt.as_bytes()));
    let mut pairs: Vec<(u8, u8)> = hash.bytes().zip(BASE_ALPHABET.iter().copied()).collect();
    pairs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));

    let mut alphabet = *BASE_ALPHABET;
    for (slot, (_, byte)) in alphabet.iter_mut().zip(pairs) {
        *slot = byte;
    }
    alphabet
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_the_chevereto_vectors_for_salt_changeme() {
        let cases: &[(u64, u64, &str)] = &[
            // padding, id, encoded
            (999, 1, "Gs"),
            (999, 2, "De"),
            (999, 3, "gK"),
            (999, 10, "y1Z"),
            (999, 61, "4Vx"),
            (999, 62, "GsF"),
            (999, 100, "Xn3"),
            (999, 1000, "zdmE"),
            (999, 123456, "ZKupw"),
            (0, 1, "Y"),
            (0, 62, "YF"),
            (0, 123456, "Dse"),
        ];

        for &(padding, id, encoded) in cases {
            let codec = IdCodec::new("changeme", padding);
            assert_eq!(
                codec.encode(id),
                encoded,
                "encode({id}) with padding {padding}"
            );
            assert_eq!(
                codec.decode(encoded),
                Some(id),
                "decode({encoded}) with padding {padding}"
            );
        }
    }

    #[test]
    fn padding_of_one_behaves_like_no_padding() {
        let unpadded = IdCodec::new("changeme", 0);
        let one = IdCodec::new("changeme", 1);

        for id in [1, 62, 123456, u64::MAX] {
            assert_eq!(unpadded.encode(id), one.encode(id));
        }
    }

    #[test]
    fn decode_refuses_strings_that_no_id_encodes_to() {
        let codec = IdCodec::new("changeme", 999);
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("G-s", "foreign character"),
            ("Gs ", "trailing space"),
            ("ü", "non-ascii"),
            ("F", "zero"),
            ("FGs", "leading zero digit"),
            ("Y", "not a multiple of the padding"),
            ("nnnnnnnnnnnnnnnnnnnnnnnnnnnnnn", "overflows u128"),
        ];

        for &(encoded, why) in cases {
            assert_eq!(codec.decode(encoded), None, "{why}: {encoded:?}");
        }
    }

    #[test]
    fn decode_refuses_values_past_the_largest_id() {
        let codec = IdCodec::new("changeme", 0);
        let largest = codec.encode(u64::MAX);
        let past = IdCodec::new("changeme", 2).encode(u64::MAX);

        assert_eq!(codec.decode(&largest), Some(u64::MAX));
        assert_eq!(codec.decode(&past), None);
    }

    #[test]
    fn every_id_round_trips_for_several_salts_and_paddings() {
        for (salt, padding) in [
            ("changeme", 999),
            ("changeme", 0),
            ("another salt", 7),
            ("", 1),
        ] {
            let codec = IdCodec::new(salt, padding);
            for id in sample_ids() {
                let encoded = codec.encode(id);
                assert_eq!(codec.decode(&encoded), Some(id), "{salt:?}/{padding}: {id}");
            }
        }
    }

    #[test]
    fn every_string_that_decodes_encodes_back_to_itself() {
        let codec = IdCodec::new("changeme", 3);
        let alphabet: Vec<char> = BASE_ALPHABET.iter().map(|&b| char::from(b)).collect();
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;

        for _ in 0..20_000 {
            let len = 1 + (next(&mut state) % 12) as usize;
            let candidate: String = (0..len)
                .map(|_| alphabet[(next(&mut state) % BASE as u64) as usize])
                .collect();
            if let Some(id) = codec.decode(&candidate) {
                assert_eq!(codec.encode(id), candidate);
            }
        }
    }

    #[test]
    fn debug_output_does_not_reveal_the_alphabet() {
        let codec = IdCodec::new("changeme", 999);
        let shown = format!("{codec:?}");

        assert!(!shown.contains("FYyQz"), "{shown}");
    }

    /// Small ids, every power-of-62 boundary, and a spread of pseudo-random large ids.
    fn sample_ids() -> Vec<u64> {
        let mut ids: Vec<u64> = (1..=5_000).collect();
        let mut power = 62u64;
        while let Some(next_power) = power.checked_mul(62) {
            ids.extend([power - 1, power, power + 1]);
            power = next_power;
        }

        let mut state = 42;
        ids.extend((0..5_000).map(|_| next(&mut state).max(1)));
        ids.push(u64::MAX);
        ids
    }

    /// SplitMix64, so the sampled ids are the same on every run.
    fn next(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}
