//! Migration indices and flow estimates:
//!
//! - `GET /api/indices/{dataflow}?key=…&year=…&source=…&release=…` — the Bell et al. indices of
//!   an origin–destination table (`year` required: `1990/1995` or its end year), or arrivals,
//!   departures, net and effectiveness of regions (`year` optional);
//! - `GET /api/flows/estimate?from=…&to=…&method=demo|diff|rates&…` — an estimate of flows from
//!   stocks, computed and answered, never written: writing the release stays with the command
//!   line until requests are authenticated.
//!
//! Both answer the application's whole report (not paged: it is small), refused with a 413 if
//! it is over the answer limit.

use std::sync::Arc;

use axum::extract::State;
use koshi_app::flows::{DecreaseRule, FlowEstimateRequest, FlowMethod, IndicesRequest};
use serde::Deserialize;

use crate::error::ApiError;
use crate::params::{JsonBytes, Params, Segment, non_negative, report_json, year};
use crate::{Server, blocking};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IndicesParams {
    key: Option<String>,
    year: Option<String>,
    source: Option<String>,
    release: Option<String>,
}

pub(crate) async fn indices(
    State(server): State<Arc<Server>>,
    Segment(dataflow): Segment<String>,
    Params(p): Params<IndicesParams>,
) -> Result<JsonBytes, ApiError> {
    let request = IndicesRequest {
        dataflow,
        keys: p.key.into_iter().collect(),
        year: p.year,
        source: p.source,
        release: p.release,
    };
    blocking(move || {
        report_json(&server.app.indices(&request)?, server.max_response_bytes, "narrow it with key= or year=")
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EstimateParams {
    from: Option<String>,
    to: Option<String>,
    method: Option<String>,
    stocks: Option<String>,
    stocks_source: Option<String>,
    stocks_release: Option<String>,
    population: Option<String>,
    births: Option<String>,
    deaths: Option<String>,
    decrease: Option<String>,
    total: Option<String>,
}

fn required_year(name: &str, text: Option<&str>) -> Result<i32, ApiError> {
    year(name, text.ok_or_else(|| ApiError::bad_parameter(format!("{name}: required (a year such as 2010)")))?)
}

fn one_of<T: Copy>(name: &str, text: &str, all: &[T], of: impl Fn(T) -> &'static str) -> Result<T, ApiError> {
    all.iter().copied().find(|v| of(*v) == text.trim()).ok_or_else(|| {
        let names: Vec<&str> = all.iter().map(|v| of(*v)).collect();
        ApiError::bad_parameter(format!("{name}: `{text}` is none of {}", names.join(", ")))
    })
}

impl EstimateParams {
    /// The request these parameters make: always a dry run.
    fn request(self) -> Result<FlowEstimateRequest, ApiError> {
        let mut request = FlowEstimateRequest::new(
            required_year("from", self.from.as_deref())?,
            required_year("to", self.to.as_deref())?,
        );
        if let Some(m) = &self.method {
            request.method = one_of("method", m, &FlowMethod::ALL, FlowMethod::name)?;
        }
        if let Some(d) = &self.decrease {
            request.decrease = one_of("decrease", d, &DecreaseRule::ALL, DecreaseRule::name)?;
        }
        request.total = self.total.as_deref().map(|t| non_negative("total", t)).transpose()?;
        for (field, value) in [
            (&mut request.stocks, self.stocks),
            (&mut request.stocks_source, self.stocks_source),
            (&mut request.stocks_release, self.stocks_release),
            (&mut request.population, self.population),
        ] {
            if let Some(v) = value {
                *field = v;
            }
        }
        request.births = self.births;
        request.deaths = self.deaths;
        request.dry_run = true;
        Ok(request)
    }
}

pub(crate) async fn estimate(
    State(server): State<Arc<Server>>,
    Params(p): Params<EstimateParams>,
) -> Result<JsonBytes, ApiError> {
    let request = p.request()?;
    blocking(move || {
        report_json(
            &server.app.estimate_flows(&request, &mut |_| {})?,
            server.max_response_bytes,
            "narrow it with key= or year=",
        )
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &str) -> Result<FlowEstimateRequest, ApiError> {
        serde_urlencoded::from_str::<EstimateParams>(pairs)
            .map_err(|e| ApiError::bad_parameter(e.to_string()))?
            .request()
    }

    #[test]
    fn estimate_parameters_are_read_strictly_and_never_write() {
        let r = params("from=1990&to=1995&method=diff&decrease=zero&stocks_release=Stock%202020").unwrap();
        assert_eq!((r.from, r.to, r.method, r.decrease), (1990, 1995, FlowMethod::Diff, DecreaseRule::Zero));
        assert_eq!(r.stocks_release, "Stock 2020");
        assert_eq!(r.stocks, koshi_app::flows::DEFAULT_STOCKS);
        assert!(r.dry_run);
        for (bad, names) in [
            ("to=1995", "from"),
            ("from=1990&to=x", "to"),
            ("from=1990&to=1995&method=ipf", "method"),
            ("from=1990&to=1995&decrease=half", "decrease"),
            ("from=1990&to=1995&total=-3", "total"),
        ] {
            let e = params(bad).unwrap_err();
            assert_eq!(e.code, "BAD_PARAMETER", "{bad}");
            assert!(e.message.starts_with(names), "{bad}: {}", e.message);
        }
        assert!(params("from=1990&to=1995&dry_run=false").is_err(), "no parameter makes it write");
    }
}
