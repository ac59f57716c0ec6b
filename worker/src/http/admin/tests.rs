//! The admin API stepped natively: routing, the gate stub, each route's SQL and answers.
