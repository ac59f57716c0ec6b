//! Lets many concurrent callers share one in-flight operation (the login), on a
//! single thread.
//!
//! Waiters poll the shared state on their own timer instead of being woken by
//! the leader. In workerd a continuation woken from another request's I/O runs
//! in that request's context, and the waiting request is cancelled as hung; a
//! timer created by the waiter keeps each request in its own context. If the
//! leader is dropped mid-flight, a waiter takes over.

use std::cell::RefCell;
use std::future::Future;

pub(crate) struct SingleFlight<T: Clone> {
    state: RefCell<State<T>>,
}

struct State<T> {
    running: bool,
    epoch: u64,
    outcome: Option<(u64, T)>,
}

/// What a caller should do.
pub(crate) enum Turn<'a, T: Clone> {
    /// Run the operation and hand its result to `Leader::finish`.
    Lead(Leader<'a, T>),
    /// Another caller ran it; here is its result.
    Shared(T),
}

impl<T: Clone> SingleFlight<T> {
    pub fn new() -> Self {
        SingleFlight {
            state: RefCell::new(State {
                running: false,
                epoch: 0,
                outcome: None,
            }),
        }
    }

    /// Leads a new flight if none is running, else waits for the running one,
    /// checking after each `pause()`.
    pub async fn join<P, F>(&self, pause: P) -> Turn<'_, T>
    where
        P: Fn() -> F,
        F: Future<Output = ()>,
    {
        let mut waiting_for = None;
        loop {
            {
                let mut s = self.state.borrow_mut();
                if let (Some(epoch), Some((done, value))) = (waiting_for, &s.outcome) {
                    if *done == epoch {
                        return Turn::Shared(value.clone());
                    }
                }
                if !s.running {
                    s.running = true;
                    s.epoch += 1;
                    return Turn::Lead(Leader {
                        flight: self,
                        epoch: s.epoch,
                        done: false,
                    });
                }
                waiting_for = Some(s.epoch);
            }
            pause().await;
        }
    }

    fn end(&self, epoch: u64, outcome: Option<T>) {
        let mut s = self.state.borrow_mut();
        if s.epoch == epoch {
            s.running = false;
        }
        if let Some(value) = outcome {
            s.outcome = Some((epoch, value));
        }
    }
}

pub(crate) struct Leader<'a, T: Clone> {
    flight: &'a SingleFlight<T>,
    epoch: u64,
    done: bool,
}

impl<T: Clone> Leader<'_, T> {
    pub fn finish(mut self, value: T) {
        self.done = true;
        self.flight.end(self.epoch, Some(value));
    }
}

impl<T: Clone> Drop for Leader<'_, T> {
    fn drop(&mut self) {
        if !self.done {
            self.flight.end(self.epoch, None);
        }
    }
}
