use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::executor::block_on;
use futures::future::join_all;
use serde_json::{json, Value};

use super::*;
use crate::error::Call;
use crate::login::Token;
use crate::requery::PaymentStatus;
use crate::secret::Secret;
use crate::testing::{config_with_password, jwt, payment, reference};
use crate::transport::{Request, Response, TransportError};
use crate::LOGIN_REFUSAL_BACKOFF;

/// Yields once, so that concurrent futures interleave as they would on a real network.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

type ScriptedReply = Result<(u16, String), TransportError>;

/// A scripted gateway: answers by path from queues, counts calls, keeps the requests.
#[derive(Default)]
struct ScriptedGateway {
    now_ms: Cell<u64>,
    scripted: RefCell<Vec<(&'static str, ScriptedReply)>>,
    requests: RefCell<Vec<(String, Value)>>,
    token_ttl_secs: Cell<u64>,
    /// Sleeps begun on the clock.
    sleeps: Cell<u32>,
}

impl ScriptedGateway {
    fn new() -> Rc<ScriptedGateway> {
        let g = ScriptedGateway::default();
        g.now_ms.set(1_700_000_000_000);
        g.token_ttl_secs.set(3600);
        Rc::new(g)
    }

    /// The next call to a path containing `path` gets `reply` instead of the default.
    fn script(&self, path: &'static str, reply: ScriptedReply) {
        self.scripted.borrow_mut().push((path, reply));
    }

    fn calls(&self, path: &str) -> usize {
        self.requests
            .borrow()
            .iter()
            .filter(|(p, _)| p.contains(path))
            .count()
    }

    fn jwt(&self) -> String {
        let exp = self.now_ms.get() / 1000 + self.token_ttl_secs.get();
        let n = self.calls("loginApi");
        jwt(exp, n as u32)
    }

    /// A gateway that works: a create echoes the reference it was sent (`userid`).
    fn default_reply(&self, path: &str, body: &Value) -> (u16, String) {
        if path.contains("loginApi") {
            (
                200,
                json!({"status": "true", "token": self.jwt(), "code": 200}).to_string(),
            )
        } else if path.contains("payment-generator") {
            let body = json!({"status": "true", "url": "http://gw.test/kelantanpay/R/abc", "reference": body["userid"],
                "token": "abc", "amount": 2, "orderid": "KPAY1", "code": 200});
            (200, body.to_string())
        } else {
            (200, r#"{"status":"11"}"#.to_owned())
        }
    }

    fn handle(&self, request: Request) -> ScriptedReply {
        let path = request
            .url
            .strip_prefix("http://gw.test")
            .unwrap_or(&request.url)
            .to_owned();
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        self.requests
            .borrow_mut()
            .push((path.clone(), body.clone()));
        let mut scripted = self.scripted.borrow_mut();
        if let Some(i) = scripted.iter().position(|(p, _)| path.contains(p)) {
            return scripted.remove(i).1;
        }
        Ok(self.default_reply(&path, &body))
    }
}

struct TestClock(Rc<ScriptedGateway>);

impl Clock for TestClock {
    fn now_ms(&self) -> u64 {
        self.0.now_ms.get()
    }
    /// Yields once, then the clock reads (at least) the sleep's end: sleeps that overlap
    /// take the time of the longest, not of all of them added up, as on a real clock.
    async fn sleep(&self, duration: Duration) {
        self.0.sleeps.set(self.0.sleeps.get() + 1);
        let until_ms = self.0.now_ms.get() + duration.as_millis() as u64;
        YieldNow(false).await;
        self.0.now_ms.set(self.0.now_ms.get().max(until_ms));
    }
    fn random(&self) -> f64 {
        0.5
    }
}

fn client(gw: &Rc<ScriptedGateway>) -> Client<impl Transport, TestClock> {
    client_with_password(gw, "s3cret-pw")
}

fn client_with_password(
    gw: &Rc<ScriptedGateway>,
    password: &str,
) -> Client<impl Transport, TestClock> {
    let g = gw.clone();
    let transport = move |req: Request, _timeout: Duration| {
        let g = g.clone();
        async move {
            YieldNow(false).await;
            g.handle(req).map(|(status, body)| Response {
                status,
                body: body.into_bytes(),
            })
        }
    };
    let config = config_with_password(password);
    Client::new(config, transport, TestClock(gw.clone()))
}

#[test]
fn concurrent_cold_creates_share_one_login() {
    let gw = ScriptedGateway::new();
    let c = client(&gw);
    let p = payment();
    let results = block_on(join_all((0..50).map(|_| c.create_payment(&p))));
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(gw.calls("loginApi"), 1);
    assert_eq!(gw.calls("payment-generator"), 50);
}

#[test]
fn waiters_sleep_once_on_the_login_and_wake_when_it_lands() {
    let gw = ScriptedGateway::new();
    let c = client(&gw);
    let p = payment();
    let start = gw.now_ms.get();
    let results = block_on(join_all((0..20).map(|_| c.create_payment(&p))));
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(gw.calls("loginApi"), 1);
    assert_eq!(gw.calls("payment-generator"), 20);
    // Each of the 19 waiters began one sleep (to the end of the login's lease), and the
    // ring ended it: no polling, and the clock never reached the lease.
    assert_eq!(gw.sleeps.get(), 19, "one sleep per waiter");
    assert_eq!(
        gw.now_ms.get(),
        start,
        "woken by the ring, not by the lease running out"
    );
    assert_eq!(c.tokens.bell().rings(), 1, "one login, one ring");
    assert_eq!(c.tokens.bell().waiting(), 0, "no wake left behind");
}

#[test]
fn the_bell_wakes_each_registered_sleeper_once_and_forgets_the_cancelled() {
    let bell = LoginBell::default();
    let woken = Rc::new(Cell::new(0u32));
    let wake = |woken: &Rc<Cell<u32>>| {
        let woken = woken.clone();
        Box::new(move || woken.set(woken.get() + 1)) as Box<dyn FnOnce()>
    };
    let tickets: Vec<_> = (0..5).map(|_| bell.on_ring(wake(&woken))).collect();
    drop(bell.on_ring(wake(&woken)));
    assert_eq!(bell.waiting(), 5, "a dropped ticket takes its wake back");
    bell.ring();
    assert_eq!((woken.get(), bell.rings(), bell.waiting()), (5, 1, 0));
    bell.ring();
    assert_eq!(woken.get(), 5, "a wake is called once");
    drop(tickets);
    // A sleeper whose own timer ends first takes its registration back.
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    let mut listening = Box::pin(bell.next_ring());
    assert!(listening.as_mut().poll(&mut cx).is_pending());
    assert!(listening.as_mut().poll(&mut cx).is_pending());
    assert_eq!(bell.waiting(), 1, "re-polled, still one registration");
    drop(listening);
    assert_eq!(bell.waiting(), 0);
    let mut listening = Box::pin(bell.next_ring());
    assert!(listening.as_mut().poll(&mut cx).is_pending());
    bell.ring();
    assert!(listening.as_mut().poll(&mut cx).is_ready());
}

#[test]
fn token_travels_in_the_body_and_is_renewed_before_expiry() {
    let gw = ScriptedGateway::new();
    gw.token_ttl_secs.set(120);
    let c = client(&gw);
    block_on(c.create_payment(&payment())).unwrap();
    let first_token = gw.requests.borrow()[1].1["token"].clone();
    assert!(first_token
        .as_str()
        .unwrap()
        .starts_with("eyJ0eXAiOiJKV1Qi"));
    gw.now_ms.set(gw.now_ms.get() + 59_000);
    block_on(c.create_payment(&payment())).unwrap();
    assert_eq!(gw.calls("loginApi"), 1, "still more than 60 s left");
    gw.now_ms.set(gw.now_ms.get() + 2_000);
    block_on(c.create_payment(&payment())).unwrap();
    assert_eq!(gw.calls("loginApi"), 2, "renewed 60 s before exp");
    assert_ne!(gw.requests.borrow()[4].1["token"], first_token);
}

#[test]
fn a_401_on_create_is_never_resent_and_the_next_create_logs_in_afresh() {
    let gw = ScriptedGateway::new();
    let c = client(&gw);
    let expired = Ok((
        401,
        r#"{"status":"false","description":"Token expired","code":401}"#.to_owned(),
    ));
    gw.script("payment-generator", expired);
    let err = block_on(c.create_payment(&payment())).unwrap_err();
    assert!(err.is_token_rejection());
    assert_eq!(
        (gw.calls("loginApi"), gw.calls("payment-generator")),
        (1, 1),
        "a reference goes to payment-generator at most once"
    );
    // The rejected token is gone: the caller's retry (under a new reference) logs in again.
    block_on(c.create_payment(&payment())).unwrap();
    assert_eq!(
        (gw.calls("loginApi"), gw.calls("payment-generator")),
        (2, 2)
    );
}

#[test]
fn creation_is_never_retried_on_outages() {
    let gw = ScriptedGateway::new();
    let c = client(&gw);
    gw.script(
        "payment-generator",
        Ok((
            500,
            r#"{"status":"false","description":"Internal Server Error"}"#.into(),
        )),
    );
    let err = block_on(c.create_payment(&payment())).unwrap_err();
    assert!(matches!(
        err,
        Error::Upstream {
            http_status: 500,
            ..
        }
    ));
    gw.script(
        "payment-generator",
        Err(TransportError::Failed("reset".into())),
    );
    assert!(matches!(
        block_on(c.create_payment(&payment())),
        Err(Error::Transport { .. })
    ));
    assert_eq!(gw.calls("payment-generator"), 2);
}

#[test]
fn requery_retries_outages_with_backoff_then_gives_up() {
    let gw = ScriptedGateway::new();
    let c = client(&gw);
    let outage = Ok((502, "<html>Bad gateway</html>".to_owned()));
    gw.script("requery", outage.clone());
    gw.script("requery", Err(TransportError::Failed("refused".into())));
    let t0 = gw.now_ms.get();
    assert_eq!(block_on(c.requery(&reference())).unwrap().code, "11");
    // Two backoff sleeps, about 200 ms and 400 ms, each jittered by up to 25% (the exact
    // draws are the step machines' to test, with a known seed).
    let slept = gw.now_ms.get() - t0;
    assert!((150 + 300..=250 + 500).contains(&slept), "{slept}");
    for _ in 0..3 {
        gw.script("requery", outage.clone());
    }
    let err = block_on(c.requery(&reference())).unwrap_err();
    assert!(matches!(
        err,
        Error::Upstream {
            http_status: 502,
            ..
        }
    ));
    assert_eq!(gw.calls("requery"), 6);
}

#[test]
fn timeouts_are_not_retried() {
    let gw = ScriptedGateway::new();
    let c = client(&gw);
    gw.script("requery", Err(TransportError::Timeout));
    let err = block_on(c.requery(&reference())).unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }));
    assert_eq!(gw.calls("requery"), 1);
}

#[test]
fn refused_login_fails_every_waiter_with_auth_failed() {
    let gw = ScriptedGateway::new();
    let c = client(&gw);
    gw.script(
        "loginApi",
        Ok((
            200,
            r#"{"status":"false","description":"Invalid username or password"}"#.into(),
        )),
    );
    let p = payment();
    let results = block_on(join_all((0..5).map(|_| c.create_payment(&p))));
    assert!(results
        .iter()
        .all(|r| matches!(r, Err(Error::AuthFailed { .. }))));
    assert_eq!(gw.calls("loginApi"), 1);
    assert_eq!(gw.calls("payment-generator"), 0);
    assert!(!format!("{results:?}").contains("s3cret-pw"));
}

#[test]
fn early_22_is_retried_then_reported_pending_and_late_22_is_failed() {
    let gw = ScriptedGateway::new();
    let c = client(&gw);
    let created = gw.now_ms.get();
    for _ in 0..4 {
        gw.script("requery", Ok((200, r#"{"status":"22"}"#.into())));
    }
    let check = block_on(c.check_status(&reference(), created)).unwrap();
    assert_eq!(
        (check.status, check.result.code.as_str()),
        (PaymentStatus::Pending, "22")
    );
    assert_eq!(gw.calls("requery"), 4);

    gw.script("requery", Ok((200, r#"{"status":"22"}"#.into())));
    gw.script("requery", Ok((200, r#"{"status":"11"}"#.into())));
    let check = block_on(c.check_status(&reference(), gw.now_ms.get())).unwrap();
    assert_eq!(check.status, PaymentStatus::Pending);
    assert_eq!(check.result.code, "11");

    gw.script("requery", Ok((200, r#"{"status":"22"}"#.into())));
    let check = block_on(c.check_status(&reference(), created - 61_000)).unwrap();
    assert_eq!(check.status, PaymentStatus::Failed);
}

#[test]
fn wait_for_final_status_polls_until_paid_or_timeout() {
    let gw = ScriptedGateway::new();
    let c = client(&gw);
    gw.script("requery", Ok((200, r#"{"status":"22"}"#.into())));
    gw.script("requery", Ok((200, r#"{"status":"11"}"#.into())));
    gw.script(
        "requery",
        Ok((200, r#"{"status":"00","amount":"2.00"}"#.into())),
    );
    let check =
        block_on(c.wait_for_final_status(&reference(), None, Duration::from_secs(60))).unwrap();
    assert_eq!(check.status, PaymentStatus::Paid);
    assert_eq!(gw.calls("requery"), 3);

    let t0 = gw.now_ms.get();
    let check =
        block_on(c.wait_for_final_status(&reference(), None, Duration::from_secs(5))).unwrap();
    assert_eq!(check.status, PaymentStatus::Pending);
    assert_eq!(gw.now_ms.get() - t0, 5_000, "stops at the deadline");
}

#[test]
fn a_dropped_login_leader_hands_over_to_a_waiter() {
    let gw = ScriptedGateway::new();
    let c = client(&gw);
    let p = payment();
    block_on(async {
        let mut leader = Box::pin(c.create_payment(&p));
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(
            leader.as_mut().poll(&mut cx).is_pending(),
            "leader is mid-login"
        );
        let mut waiter = Box::pin(c.create_payment(&p));
        assert!(
            waiter.as_mut().poll(&mut cx).is_pending(),
            "waiter waits for the leader"
        );
        drop(leader);
        assert!(waiter.await.is_ok());
    });
    assert_eq!(gw.calls("payment-generator"), 1);
}

#[test]
fn config_debug_redacts_the_password() {
    let gw = ScriptedGateway::new();
    let c = client(&gw);
    let shown = format!("{:?}", c.config());
    assert!(shown.contains("[redacted]") && !shown.contains("s3cret-pw"));
}

fn refused_login() -> ScriptedReply {
    Ok((
        200,
        r#"{"status":"false","description":"Invalid username or password"}"#.into(),
    ))
}

#[test]
fn a_refused_login_is_remembered_for_30_seconds_not_asked_per_request() {
    let gw = ScriptedGateway::new();
    let c = client(&gw);
    gw.script("loginApi", refused_login());
    for _ in 0..10 {
        let err = block_on(c.create_payment(&payment())).unwrap_err();
        assert!(matches!(err, Error::AuthFailed { .. }), "{err:?}");
        gw.now_ms.set(gw.now_ms.get() + 2_000);
    }
    assert_eq!(gw.calls("loginApi"), 1, "20 s of requests, one login");
    assert_eq!(gw.calls("payment-generator"), 0);

    // Past the backoff the gateway is asked again; a refusal starts a new backoff.
    gw.now_ms.set(gw.now_ms.get() + 10_000);
    gw.script("loginApi", refused_login());
    assert!(block_on(c.create_payment(&payment())).is_err());
    assert!(block_on(c.create_payment(&payment())).is_err());
    assert_eq!(gw.calls("loginApi"), 2);

    // Credentials fixed: the first login after the backoff succeeds and forgets the refusal.
    gw.now_ms
        .set(gw.now_ms.get() + LOGIN_REFUSAL_BACKOFF.as_millis() as u64);
    block_on(c.create_payment(&payment())).unwrap();
    block_on(c.create_payment(&payment())).unwrap();
    assert_eq!(gw.calls("loginApi"), 3);
}

#[test]
fn login_outages_are_not_remembered_as_refusals() {
    let gw = ScriptedGateway::new();
    let c = client(&gw);
    for _ in 0..3 {
        gw.script("loginApi", Ok((503, "<html>down</html>".into())));
    }
    let err = block_on(c.create_payment(&payment())).unwrap_err();
    assert_eq!(err.kind(), "upstream_error");
    assert_eq!(gw.calls("loginApi"), 3, "first try and two retries");
    block_on(c.create_payment(&payment())).unwrap();
    assert_eq!(gw.calls("loginApi"), 4, "no backoff after an outage");
}

#[test]
fn token_cache_refusal_memory_is_a_function_of_now() {
    let cache = TokenCache::default();
    let refused = Err(Error::AuthFailed {
        description: "no".into(),
    });
    assert_eq!(cache.refusal(1_000), None);
    cache.record_login(&refused, 1_000);
    assert!(matches!(
        cache.refusal(1_000),
        Some(Error::AuthFailed { .. })
    ));
    assert!(cache.refusal(30_999).is_some());
    assert_eq!(cache.refusal(31_000), None);
    cache.record_login(&Err(Error::Timeout { call: Call::Login }), 2_000);
    assert!(
        cache.refusal(2_000).is_some(),
        "a timeout keeps the refusal"
    );
    cache.record_login(&Ok(Token::new(Secret::new("t"))), 3_000);
    assert_eq!(cache.refusal(3_000), None);
}

#[test]
fn a_description_mentioning_a_token_is_not_a_rejection_and_is_not_resent() {
    let gw = ScriptedGateway::new();
    let c = client(&gw);
    gw.script(
        "payment-generator",
        Ok((
            200,
            r#"{"status":"false","description":"The token field is required.","code":422}"#.into(),
        )),
    );
    let err = block_on(c.create_payment(&payment())).unwrap_err();
    assert_eq!(err.kind(), "upstream_error");
    assert_eq!(
        (gw.calls("loginApi"), gw.calls("payment-generator")),
        (1, 1)
    );
}

/// Every entry of the core's one redaction list, echoed by the gateway, leaves the client's
/// error: if `Client::redact` stopped taking its list from `redaction_list`, this would fail.
#[test]
fn client_errors_are_cleaned_of_the_whole_redaction_list() {
    let gw = ScriptedGateway::new();
    let c = client_with_password(&gw, "p@ss word/1");
    block_on(c.create_payment(&payment())).unwrap();
    let token = gw.requests.borrow()[1].1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = crate::redaction_list(["merchant", "p@ss word/1", token.as_str()]);
    // Each entry apart, so none is hidden only as part of a longer one.
    for secret in &list {
        let echo =
            json!({"status": "false", "description": format!("echo <{secret}>"), "code": 422});
        gw.script("payment-generator", Ok((200, echo.to_string())));
        let err = block_on(c.create_payment(&payment())).unwrap_err();
        assert!(
            err.to_string().ends_with("echo <[redacted]>"),
            "{secret}: {err}"
        );
    }
}

#[test]
fn errors_leave_the_client_without_credentials_or_tokens() {
    let gw = ScriptedGateway::new();
    let c = client(&gw);
    block_on(c.create_payment(&payment())).unwrap();
    let token = gw.requests.borrow()[1].1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let signature = token.rsplit('.').next().unwrap().to_owned();
    let echo = json!({
        "status": "false",
        "description": format!("merchant/s3cret-pw: token {token} (sig {signature}) rejected {}", "x".repeat(300)),
        "code": 422,
    });
    gw.script("payment-generator", Ok((200, echo.to_string())));
    let err = block_on(c.create_payment(&payment())).unwrap_err();
    let Error::Upstream { description, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(description.chars().count(), crate::MAX_DESCRIPTION_CHARS);
    for secret in ["merchant", "s3cret-pw", token.as_str(), signature.as_str()] {
        assert!(!format!("{err:?} {err}").contains(secret), "{err}");
    }

    gw.script(
        "requery",
        Err(TransportError::Failed(
            "fetch http://gw.test/api/kelantan-requery/merchant/R1 failed".into(),
        )),
    );
    for _ in 0..2 {
        gw.script("requery", Err(TransportError::Failed("merchant".into())));
    }
    let err = block_on(c.requery(&reference())).unwrap_err();
    assert!(matches!(err, Error::Transport { .. }));
    assert!(!err.to_string().contains("merchant"), "{err}");
    let c = client_with_password(&gw, "p@ss word/1");
    gw.script(
        "requery",
        Ok((
            404,
            r#"{"status":"false","description":"bad /api/kelantan-requery/merchant/R1?p=p%40ss%20word%2F1"}"#
                .into(),
        )),
    );
    let err = block_on(c.requery(&reference())).unwrap_err();
    assert!(!err.to_string().contains("p%40ss"), "{err}");

    let c = client(&gw);
    gw.script(
        "loginApi",
        Ok((
            200,
            r#"{"status":"false","description":"Wrong password s3cret-pw for merchant"}"#.into(),
        )),
    );
    let err = block_on(c.create_payment(&payment())).unwrap_err();
    assert!(matches!(err, Error::AuthFailed { .. }));
    assert!(
        err.to_string()
            .ends_with("Wrong password [redacted] for [redacted]"),
        "{err}"
    );
}

#[test]
fn without_a_creation_time_the_gateways_date_dates_the_payment() {
    let gw = ScriptedGateway::new();
    let c = client(&gw);
    let dated = |age_secs: u64| {
        let created = crate::time::iso8601(gw.now_ms.get() / 1000 - age_secs);
        Ok((
            200,
            json!({"status": "22", "created_at": created}).to_string(),
        ))
    };
    // 115 s old by the gateway's own date: failed at once, one requery.
    gw.script("requery", dated(115));
    let check = block_on(c.check_status_from(&reference(), None)).unwrap();
    assert_eq!(check.status, PaymentStatus::Failed);
    assert_eq!(gw.calls("requery"), 1);
    gw.script("requery", dated(115));
    let t0 = gw.now_ms.get();
    let wait =
        block_on(c.wait_for_final_status(&reference(), None, Duration::from_secs(60))).unwrap();
    assert_eq!(wait.status, PaymentStatus::Failed);
    assert_eq!(
        gw.now_ms.get(),
        t0,
        "no waiting for a window that has passed"
    );
    // 5 s old: still the early window, asked again, then pending.
    for _ in 0..4 {
        gw.script("requery", dated(5));
    }
    let young = block_on(c.check_status_from(&reference(), None)).unwrap();
    assert_eq!(young.status, PaymentStatus::Pending);
    // Undated and unknown: never called failed before the window could have passed.
    for _ in 0..4 {
        gw.script("requery", Ok((200, r#"{"status":"22"}"#.into())));
    }
    let undated = block_on(c.check_status_from(&reference(), None)).unwrap();
    assert_eq!(undated.status, PaymentStatus::Pending);
}
