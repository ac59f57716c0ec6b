//! A one-shot "it has finished" that any number of futures can await: the payment object's
//! waiters learn that its create attempt settled the moment it does, instead of polling the
//! slot on a timer (each poll a timer, a wake-up and a slot copy in the object).

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::task::{Poll, Waker};

#[derive(Default)]
pub struct Settled {
    fired: Cell<bool>,
    waiting: RefCell<Vec<Waker>>,
}

impl Settled {
    pub fn fire(&self) {
        self.fired.set(true);
        for waker in self.waiting.take() {
            waker.wake();
        }
    }

    #[cfg(test)]
    pub fn has_fired(&self) -> bool {
        self.fired.get()
    }

    /// Finishes once `fire` has been called (at once if it already was).
    pub async fn wait(&self) {
        poll_fn(|cx| {
            if self.fired.get() {
                return Poll::Ready(());
            }
            let mut waiting = self.waiting.borrow_mut();
            if !waiting.iter().any(|w| w.will_wake(cx.waker())) {
                waiting.push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::Settled;
    use std::future::Future;
    use std::pin::pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn waiters_are_woken_once_when_it_fires_and_later_ones_finish_at_once() {
        let settled = Settled::default();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let mut first = pin!(settled.wait());
        assert!(first.as_mut().poll(&mut cx).is_pending());
        assert!(first.as_mut().poll(&mut cx).is_pending());
        assert!(!settled.has_fired());
        settled.fire();
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            1,
            "one waker, registered once"
        );
        assert_eq!(first.as_mut().poll(&mut cx), Poll::Ready(()));
        assert_eq!(pin!(settled.wait()).poll(&mut cx), Poll::Ready(()));
        assert!(settled.has_fired());
    }
}
