//! Secrets of the right shape made at run time, so no test file holds one: shared by the
//! rules' unit tests and the integration tests (which include this file by path).

pub(crate) const ALNUM: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub(crate) const UPPER_DIGITS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub(crate) const HEX: &str = "0123456789abcdef";

/// `len` characters of `alphabet`, varied (a fixed pseudo-random walk).
pub(crate) fn fake(alphabet: &str, len: usize, seed: usize) -> String {
    let chars: Vec<char> = alphabet.chars().collect();
    (0..len)
        .map(|i| chars[(i * 7 + seed * 13 + i * i * 3) % chars.len()])
        .collect()
}
