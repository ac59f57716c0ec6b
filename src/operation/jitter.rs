//! Backoff jitter from a seed, so that an operation's every step is a function of
//! its inputs: the same seed and answers give the same sleeps, in a test or a replay.

/// An xorshift64* generator; statistical quality is beside the point, spreading
/// clients retrying one outage is all it is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Jitter(u64);

impl Jitter {
    pub fn new(seed: u64) -> Jitter {
        // Zero is xorshift's one fixed point.
        Jitter(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// A number in `[0, 1)`, as [`crate::RetryPolicy::delay`] takes.
    pub fn next_unit(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        let mixed = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (mixed >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_in_range_repeatable_and_spread() {
        let mut a = Jitter::new(42);
        let mut b = Jitter::new(42);
        let draws: Vec<f64> = (0..1000).map(|_| a.next_unit()).collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        assert!(draws.iter().all(|d| *d == b.next_unit()));
        assert!(draws.iter().any(|d| *d < 0.1) && draws.iter().any(|d| *d > 0.9));
        let mut zero = Jitter::new(0);
        assert_ne!(zero.next_unit(), zero.next_unit());
    }
}
