//! What a create request means for the slot it landed in.

use super::record::{KeyRecord, Sending, SlotState};
use super::slot::{generation_at, BodyHash};

/// A key answers repeats for 24 hours.
pub const KEY_TTL_MS: u64 = 24 * 3600 * 1000;
/// A concurrent repeat waits this long for the original before it gets `409`.
pub const WAIT_FOR_ORIGINAL_MS: u64 = 30_000;
/// A create takes at most about 5 minutes (three login tries and two sends, each bounded by
/// the upstream timeout of at most 60 s). An attempt still marked as sending after twice that
/// is abandoned, so a task that died without clearing its mark cannot block its key forever.
pub const STALE_SENDING_MS: u64 = 10 * 60_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateDecision {
    /// The gateway already answered: the stored `201`.
    Replay,
    /// The key was used with a different body.
    Conflict,
    /// The key is older than 24 hours.
    KeyExpired,
    /// This instance is sending an attempt right now: wait for its answer.
    Wait,
    /// A request without a key met an occupied slot (a random-slot collision): pick another.
    Occupied,
    /// Send attempt `attempt` (every lower number is spent).
    Start { attempt: u32 },
}

/// `key` is the request's body hash when it carried an `Idempotency-Key`.
pub fn decide_create(
    slot: &SlotState,
    key: Option<&BodyHash>,
    incarnation: u64,
    now_ms: u64,
) -> CreateDecision {
    match (key, &slot.key) {
        (Some(hash), Some(stored)) => {
            if stored.expires_ms <= now_ms {
                return CreateDecision::KeyExpired;
            }
            if stored.body_hash != *hash {
                return CreateDecision::Conflict;
            }
        }
        (None, _) if slot != &SlotState::default() => return CreateDecision::Occupied,
        _ => {}
    }
    if slot.payment.is_some() {
        return CreateDecision::Replay;
    }
    match slot.sending {
        Some(s)
            if s.incarnation == incarnation
                && now_ms.saturating_sub(s.since_ms) < STALE_SENDING_MS =>
        {
            CreateDecision::Wait
        }
        // Nothing running, or a sender that no longer exists: its attempt is spent.
        _ => CreateDecision::Start {
            attempt: slot.attempts,
        },
    }
}

/// The slot once `attempt` goes out: the number is spent before the request is sent.
pub fn start_attempt(
    slot: &SlotState,
    key: Option<&BodyHash>,
    attempt: u32,
    incarnation: u64,
    now_ms: u64,
) -> SlotState {
    SlotState {
        key: slot.key.clone().or_else(|| {
            key.map(|hash| KeyRecord {
                body_hash: hash.clone(),
                expires_ms: now_ms + KEY_TTL_MS,
            })
        }),
        attempts: attempt.saturating_add(1).max(slot.attempts),
        sending: Some(Sending {
            attempt,
            since_ms: now_ms,
            incarnation,
        }),
        payment: None,
        forget_at_ms: Some(now_ms + KEY_TTL_MS),
        // A slot's first use fixes its generation; one stored without one keeps its numbers.
        generation: slot
            .generation
            .or_else(|| (slot.attempts == 0).then(|| generation_at(now_ms))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payment::slot::BodyHash;

    const NOW: u64 = 1_764_000_000_000;
    const ME: u64 = 7;

    fn hash(text: &str) -> BodyHash {
        BodyHash::of(&serde_json::Value::from(text))
    }

    fn with_payment(slot: &SlotState) -> SlotState {
        SlotState {
            payment: Some(crate::payment::testing::record(NOW)),
            sending: None,
            ..slot.clone()
        }
    }

    #[test]
    fn a_fresh_slot_starts_attempt_zero_and_spends_it() {
        let empty = SlotState::default();
        let h = hash("a");
        assert_eq!(
            decide_create(&empty, Some(&h), ME, NOW),
            CreateDecision::Start { attempt: 0 }
        );
        let sending = start_attempt(&empty, Some(&h), 0, ME, NOW);
        assert_eq!(sending.attempts, 1);
        assert_eq!(sending.key.as_ref().unwrap().expires_ms, NOW + KEY_TTL_MS);
        // A repeat while this instance sends waits; the same body, never a second create.
        assert_eq!(
            decide_create(&sending, Some(&h), ME, NOW + 1),
            CreateDecision::Wait
        );
        assert_eq!(
            decide_create(&sending, Some(&hash("b")), ME, NOW + 1),
            CreateDecision::Conflict
        );
    }

    #[test]
    fn an_evicted_or_failed_attempt_is_abandoned_and_the_next_number_used() {
        let h = hash("a");
        let sending = start_attempt(&SlotState::default(), Some(&h), 0, ME, NOW);
        // Another instance finds the attempt: its sender is gone, its outcome unknown.
        assert_eq!(
            decide_create(&sending, Some(&h), ME + 1, NOW + 5),
            CreateDecision::Start { attempt: 1 }
        );
        // A mark this instance left behind long ago (its task died) blocks nothing.
        assert_eq!(
            decide_create(&sending, Some(&h), ME, NOW + STALE_SENDING_MS),
            CreateDecision::Start { attempt: 1 }
        );
        let failed = SlotState {
            sending: None,
            ..sending
        };
        assert_eq!(
            decide_create(&failed, Some(&h), ME, NOW + 5),
            CreateDecision::Start { attempt: 1 }
        );
        let again = start_attempt(&failed, Some(&h), 1, ME, NOW + 5);
        assert_eq!(again.attempts, 2);
        assert_eq!(
            again.key, failed.key,
            "the key keeps its first body and expiry"
        );
    }

    #[test]
    fn an_answered_slot_replays_until_the_key_expires() {
        let h = hash("a");
        let done = with_payment(&start_attempt(&SlotState::default(), Some(&h), 0, ME, NOW));
        assert_eq!(
            decide_create(&done, Some(&h), ME + 9, NOW + 1),
            CreateDecision::Replay
        );
        assert_eq!(
            decide_create(&done, Some(&hash("b")), ME, NOW + 1),
            CreateDecision::Conflict
        );
        assert_eq!(
            decide_create(&done, Some(&h), ME, NOW + KEY_TTL_MS),
            CreateDecision::KeyExpired
        );
    }

    #[test]
    fn a_request_without_a_key_never_reads_someone_elses_slot() {
        let taken = start_attempt(&SlotState::default(), Some(&hash("a")), 0, ME, NOW);
        assert_eq!(
            decide_create(&taken, None, ME, NOW),
            CreateDecision::Occupied
        );
        assert_eq!(
            decide_create(&SlotState::default(), None, ME, NOW),
            CreateDecision::Start { attempt: 0 }
        );
    }
}
