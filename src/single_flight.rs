//! Lets many concurrent callers share one in-flight operation (the login), on a
//! single thread. If the leader is dropped mid-flight, a waiter takes over rather
//! than waiting forever.

use std::cell::RefCell;
use std::future::poll_fn;
use std::task::{Poll, Waker};

pub(crate) struct SingleFlight<T: Clone> {
    state: RefCell<State<T>>,
}

struct State<T> {
    running: bool,
    epoch: u64,
    outcome: Option<(u64, T)>,
    waiters: Vec<Waker>,
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
                waiters: Vec::new(),
            }),
        }
    }

    /// Leads a new flight if none is running, else waits for the running one.
    pub async fn join(&self) -> Turn<'_, T> {
        loop {
            let waiting_for = {
                let mut s = self.state.borrow_mut();
                if !s.running {
                    s.running = true;
                    s.epoch += 1;
                    return Turn::Lead(Leader {
                        flight: self,
                        epoch: s.epoch,
                        done: false,
                    });
                }
                s.epoch
            };
            let shared = poll_fn(|cx| {
                let mut s = self.state.borrow_mut();
                match &s.outcome {
                    Some((epoch, value)) if *epoch == waiting_for => {
                        Poll::Ready(Some(value.clone()))
                    }
                    // The flight we waited for ended without a result: its leader was dropped.
                    _ if !s.running || s.epoch != waiting_for => Poll::Ready(None),
                    _ => {
                        if !s.waiters.iter().any(|w| w.will_wake(cx.waker())) {
                            s.waiters.push(cx.waker().clone());
                        }
                        Poll::Pending
                    }
                }
            })
            .await;
            if let Some(value) = shared {
                return Turn::Shared(value);
            }
        }
    }

    fn end(&self, epoch: u64, outcome: Option<T>) {
        let waiters = {
            let mut s = self.state.borrow_mut();
            if s.epoch == epoch {
                s.running = false;
            }
            if let Some(value) = outcome {
                s.outcome = Some((epoch, value));
            }
            std::mem::take(&mut s.waiters)
        };
        waiters.into_iter().for_each(Waker::wake);
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
