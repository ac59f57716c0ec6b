//! The login bell: an operation that waits for another's login sleeps on it, and the driver
//! rings it the moment that login lands, so the waiter wakes once, at once, instead of
//! checking on a timer. Shared by every client of one [`super::TokenCache`].

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

/// Rings once per login that lands; calls each wake registered before the ring, once.
#[derive(Default)]
pub struct LoginBell {
    rings: Cell<u64>,
    /// Registrations so far: each one's ticket.
    issued: Cell<u64>,
    waiting: RefCell<Vec<(u64, WakeFn)>>,
}

/// What a ring calls: a sleeper's way back to its own task.
pub type WakeFn = Box<dyn FnOnce()>;

/// A wake registered with [`LoginBell::on_ring`]: taken back when dropped (its sleeper woke on
/// its own timer, or went away), so the bell never keeps a stale one.
#[must_use = "the wake is taken back when this is dropped"]
pub struct RingTicket<'a> {
    bell: &'a LoginBell,
    id: u64,
}

impl Drop for RingTicket<'_> {
    fn drop(&mut self) {
        self.bell
            .waiting
            .borrow_mut()
            .retain(|(id, _)| *id != self.id);
    }
}

impl LoginBell {
    /// How many times it has rung: one per login that landed.
    pub fn rings(&self) -> u64 {
        self.rings.get()
    }

    /// Calls `wake` once, at the next ring, unless the ticket is dropped first. An adapter
    /// whose runtime ties a continuation to the request that started it (workerd) passes a
    /// wake that settles a promise of the sleeping request's own; see
    /// [`crate::Clock::sleep_or_ring`].
    pub fn on_ring(&self, wake: WakeFn) -> RingTicket<'_> {
        let id = self.issued.get().wrapping_add(1);
        self.issued.set(id);
        self.waiting.borrow_mut().push((id, wake));
        RingTicket { bell: self, id }
    }

    /// How many wakes wait for the next ring.
    pub fn waiting(&self) -> usize {
        self.waiting.borrow().len()
    }

    /// A login landed: every wake registered so far is called, once.
    pub(crate) fn ring(&self) {
        self.rings.set(self.rings.get().wrapping_add(1));
        // Taken out first: a wake may register again, or ring, without a double borrow.
        let woken = self.waiting.take();
        for (_, wake) in woken {
            wake();
        }
    }

    /// Finishes at the next ring: the first after its first poll. Its waker is registered
    /// while it waits and taken back when it is dropped.
    pub async fn next_ring(&self) {
        let seen = self.rings();
        let mut ticket: Option<RingTicket<'_>> = None;
        poll_fn(|cx| {
            if self.rings() != seen {
                return Poll::Ready(());
            }
            // The old registration goes first (dropped), then this poll's waker is kept.
            drop(ticket.take());
            let waker = cx.waker().clone();
            ticket = Some(self.on_ring(Box::new(move || waker.wake())));
            Poll::Pending
        })
        .await;
    }
}

impl fmt::Debug for LoginBell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginBell")
            .field("rings", &self.rings.get())
            .field("waiting", &self.waiting())
            .finish()
    }
}

/// Runs both futures until the first finishes; the other is dropped. (A sleep raced against a
/// ring: the core's default `Clock::sleep_or_ring`, and the Worker's.)
pub async fn first_of(a: impl Future<Output = ()>, b: impl Future<Output = ()>) {
    let mut a = pin!(a);
    let mut b = pin!(b);
    poll_fn(|cx| {
        if a.as_mut().poll(cx).is_ready() || b.as_mut().poll(cx).is_ready() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}
