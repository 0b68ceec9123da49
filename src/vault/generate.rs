//! Fresh random values for `generate` keys: bytes from the operating system's CSPRNG
//! (`getrandom`), mapped onto the declared charset by rejection sampling, so every character
//! of the alphabet is equally likely (a plain `byte % 62` would favour the first eight).

use crate::model::Charset;

/// The characters a charset draws from.
fn alphabet(charset: Charset) -> &'static [u8] {
    match charset {
        Charset::Alphanumeric => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        Charset::Hex => b"0123456789abcdef",
        Charset::Base64url => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
    }
}

/// A random value of `length` characters of `charset`.
pub fn random_value(length: usize, charset: Charset) -> Result<String, getrandom::Error> {
    let mut failure = None;
    let value = from_bytes(length, charset, || {
        let mut chunk = [0u8; 64];
        if let Err(error) = getrandom::fill(&mut chunk) {
            failure = Some(error);
        }
        chunk
    });
    match failure {
        Some(error) => Err(error),
        None => Ok(value),
    }
}

/// Map random bytes (drawn in chunks from `next_chunk`) onto the alphabet. A byte at or above
/// the largest multiple of the alphabet's size is dropped instead of wrapped.
fn from_bytes(length: usize, charset: Charset, mut next_chunk: impl FnMut() -> [u8; 64]) -> String {
    let alphabet = alphabet(charset);
    let size = alphabet.len();
    let limit = 256 - 256 % size;
    let mut value = String::with_capacity(length);
    while value.len() < length {
        for byte in next_chunk() {
            let byte = usize::from(byte);
            if byte < limit && value.len() < length {
                value.push(char::from(alphabet[byte % size]));
            }
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_have_the_length_and_only_characters_of_their_charset() {
        for (charset, allowed) in [
            (
                Charset::Alphanumeric,
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            ),
            (Charset::Hex, "0123456789abcdef"),
            (
                Charset::Base64url,
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
            ),
        ] {
            let value = random_value(200, charset).unwrap();
            assert_eq!(value.len(), 200);
            assert!(
                value.chars().all(|c| allowed.contains(c)),
                "{charset:?}: {value}"
            );
        }
        assert_eq!(random_value(0, Charset::Hex).unwrap(), "");
    }

    #[test]
    fn bytes_past_the_last_whole_alphabet_are_dropped_not_wrapped() {
        // 62 letters and digits: 248 = 4 × 62, so 248..=255 would make `A`..`H` more likely.
        let mut chunks = vec![[248u8; 64], [0u8; 64]].into_iter();
        let mut first = [255u8; 64];
        first[0] = 61;
        first[1] = 62;
        let mut all = std::iter::once(first).chain(std::iter::from_fn(|| chunks.next()));
        let value = from_bytes(3, Charset::Alphanumeric, || all.next().unwrap());
        assert_eq!(
            value, "9AA",
            "61 → '9', 62 wraps to 'A', 248.. dropped, then 0 → 'A'"
        );
        let hex = from_bytes(4, Charset::Hex, || [0xff; 64]);
        assert_eq!(hex, "ffff", "16 divides 256: no byte is dropped");
    }

    #[test]
    fn two_values_differ() {
        // 32 alphanumeric characters: a collision would mean the generator is broken.
        assert_ne!(
            random_value(32, Charset::Alphanumeric).unwrap(),
            random_value(32, Charset::Alphanumeric).unwrap()
        );
    }
}
