//! Every request as one synchronous machine (`machine`), one file per route (`create`,
//! `status`, `callback`, `info`), CORS, answers and the API error.

pub mod api_error;
pub mod callback;
pub mod context;
pub mod cors;
pub mod create;
pub mod info;
pub mod machine;
pub mod respond;
pub mod status;
#[cfg(test)]
mod tests;
