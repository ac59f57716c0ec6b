//! A create request, its attempt upstream and its answer: who waits on which attempt, the one
//! retry under the next reference after a 401, and the record built from the gateway's answer.

use super::*;

impl SlotMachine {
    pub(super) fn on_create(
        &mut self,
        caller: CallerId,
        call: Box<CreateCall>,
        now: u64,
        rules: &Rules,
        out: &mut Vec<SlotEffect>,
    ) {
        let reply = |r: CreateReply| SlotEffect::Reply {
            caller,
            reply: SlotReply::Create(r),
            upstream_calls: 0,
        };
        match decide_create(&self.stored, call.key.as_ref(), self.incarnation, now) {
            CreateDecision::Replay => out.push(reply(created_or_interrupted(&self.stored))),
            CreateDecision::Conflict => out.push(reply(CreateReply::Conflict)),
            CreateDecision::KeyExpired => out.push(reply(CreateReply::KeyExpired)),
            CreateDecision::Occupied => out.push(reply(CreateReply::Occupied)),
            CreateDecision::Wait => self.create_waiters.push(CreateWaiter {
                caller,
                since_ms: now,
                original: false,
            }),
            CreateDecision::Start { attempt } if attempt >= MAX_ATTEMPTS => {
                out.push(reply(CreateReply::KeyExpired));
            }
            // No usable signing secret: nothing is spent, nothing is sent.
            CreateDecision::Start { .. } if rules.signing_secret.is_none() => {
                out.push(reply(CreateReply::Failed(Error::Transport {
                    call: Call::CreatePayment,
                    reason: "not configured: KP_SIGNING_SECRET".into(),
                })));
            }
            CreateDecision::Start { attempt } => {
                if let Some(stale) = self.stored.sending {
                    out.push(log(
                        json!({"msg": "create_abandoned", "attempt": stale.attempt}),
                    ));
                }
                self.create_waiters.push(CreateWaiter {
                    caller,
                    since_ms: now,
                    original: true,
                });
                self.send_attempt(caller, call, attempt, attempt, 0, now, rules, out);
            }
        }
    }

    /// Spends `attempt` (stored before the request leaves: never sent twice) and sends it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn send_attempt(
        &mut self,
        caller: CallerId,
        call: Box<CreateCall>,
        attempt: u32,
        first_attempt: u32,
        calls: u32,
        now: u64,
        rules: &Rules,
        out: &mut Vec<SlotEffect>,
    ) {
        let next = start_attempt(
            &self.stored,
            call.key.as_ref(),
            attempt,
            self.incarnation,
            now,
        );
        // Rules come from the isolate's configuration, which an instance never sees change.
        let Some(secret) = rules.signing_secret.as_ref() else {
            return;
        };
        let reference = call.slot.reference(next.generation, attempt);
        let handle = PaymentHandle(issue_handle(secret, &reference, now / 1000));
        let payment = new_payment(&call, reference, &handle);
        self.stored = next;
        out.push(SlotEffect::Store(Box::new(self.stored.clone())));
        let flight = self.next_flight();
        out.push(SlotEffect::SendCreate {
            flight,
            attempt,
            payment: Box::new(payment.clone()),
        });
        self.creating = Some(Creating {
            flight,
            attempt,
            first_attempt,
            caller,
            call,
            payment,
            handle,
            created_ms: now,
            calls,
        });
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_created(
        &mut self,
        flight: FlightId,
        attempt: u32,
        result: Result<CreatedPayment, Error>,
        calls: u32,
        now: u64,
        rules: &Rules,
        out: &mut Vec<SlotEffect>,
    ) {
        // Only the answer of the create in flight, sent by this instance, is this create's:
        // one this instance gave up on (its mark went stale), or one sent by the instance
        // before a reload, is abandoned for good and changes nothing (it once discarded the
        // attempt in flight, whose own answer was then lost and its key answered 409).
        let ours = |c: &Creating| c.flight == flight && c.attempt == attempt;
        let Some(mut c) = self.creating.take_if(|c| ours(c)) else {
            out.push(log(json!({"msg": "create_late_answer", "attempt": attempt,
                                "ok": result.is_ok()})));
            return;
        };
        c.calls += calls;
        match result {
            Err(e) if e.is_token_rejection() && c.attempt == c.first_attempt => {
                // One more try, logged in afresh, under the next reference.
                let Creating {
                    caller,
                    call,
                    first_attempt,
                    calls,
                    ..
                } = c;
                self.send_attempt(
                    caller,
                    call,
                    attempt + 1,
                    first_attempt,
                    calls,
                    now,
                    rules,
                    out,
                );
            }
            Ok(created) => {
                let record = PaymentRecord {
                    contact: Some(c.call.order.customer.clone()),
                    // The Worker's own origin: the alerts' link to the order in `/admin`.
                    origin: Some(c.call.callback_url.origin().to_owned()),
                    ..PaymentRecord::created(
                        c.handle,
                        c.payment.reference,
                        created.orderid,
                        created.checkout_url,
                        c.payment.purchase,
                        c.created_ms,
                        c.call.order.items.clone(),
                    )
                };
                self.stored.sending = None;
                self.stored.payment = Some(record.clone());
                // Stored before anyone is told: the gateway's answer is never lost.
                out.push(SlotEffect::Store(Box::new(self.stored.clone())));
                out.push(SlotEffect::RememberOrder {
                    orderid: record.orderid.clone(),
                    reference: record.reference.clone(),
                    forget_at_ms: record.created_ms.saturating_add(rules.timing.retention_ms),
                });
                self.answer_creates(
                    c.caller,
                    c.calls,
                    CreateReply::Created(Box::new(record)),
                    out,
                );
            }
            Err(e) => {
                self.stored.sending = None;
                out.push(SlotEffect::Store(Box::new(self.stored.clone())));
                self.answer_creates(c.caller, c.calls, CreateReply::Failed(e), out);
            }
        }
    }

    pub(super) fn answer_creates(
        &mut self,
        leader: CallerId,
        calls: u32,
        reply: CreateReply,
        out: &mut Vec<SlotEffect>,
    ) {
        for w in self.create_waiters.drain(..) {
            out.push(SlotEffect::Reply {
                caller: w.caller,
                reply: SlotReply::Create(reply.clone()),
                upstream_calls: if w.caller == leader { calls } else { 0 },
            });
        }
    }
}

fn created_or_interrupted(slot: &SlotState) -> CreateReply {
    match &slot.payment {
        Some(p) => CreateReply::Created(Box::new(p.clone())),
        None => CreateReply::Failed(interrupted()),
    }
}

pub(super) fn interrupted() -> Error {
    Error::Transport {
        call: Call::CreatePayment,
        reason: "the create was interrupted; retry with the same Idempotency-Key".into(),
    }
}

fn new_payment(call: &CreateCall, reference: Reference, handle: &PaymentHandle) -> NewPayment {
    let order = &call.order;
    NewPayment {
        reference,
        purchase: order.purchase.clone(),
        customer: order.customer.clone(),
        via: order.via,
        return_url: order
            .return_url
            .as_ref()
            .map(|u| u.with_query_param("kp_payment", &handle.0)),
        callback_url: Some(call.callback_url.with_query_param("kp_payment", &handle.0)),
    }
}
