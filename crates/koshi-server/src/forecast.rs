//! Forecasts and backtests over HTTP, the same use cases and reports as `koshi forecast` and
//! `koshi backtest`:
//!
//! - `GET /api/forecast/{dataflow}?key=…&horizon=…&model=…&from=…&to=…&as_of=…&compare_un=true&reconcile=wls|ols|mint|bottom-up|true&scenario=NAME[,NAME]&show_history=…`
//! - `GET /api/backtest/{dataflow}?key=…&horizon=…&origins=…&model=NAME[,NAME]&from=…&to=…&as_of=…`
//!
//! `key` is one key in the one key grammar (a dotted key or `DIM=CODE[+CODE]` items joined by
//! `,`). A scenario is named, never a file: the bundled ones (`data/scenarios/`), such as
//! `brain-drain`.

use std::sync::Arc;

use axum::extract::State;
use koshi_app::forecast::{BacktestRequest, ForecastRequest, Reconciliation, ScenarioSource};
use serde::Deserialize;

use crate::error::ApiError;
use crate::params::{JsonBytes, Params, Segment, boolean, report_json, whole_number, year};
use crate::{Server, blocking};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ForecastParams {
    key: Option<String>,
    horizon: Option<String>,
    model: Option<String>,
    from: Option<String>,
    to: Option<String>,
    as_of: Option<String>,
    compare_un: Option<String>,
    reconcile: Option<String>,
    scenario: Option<String>,
    show_history: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BacktestParams {
    key: Option<String>,
    horizon: Option<String>,
    origins: Option<String>,
    model: Option<String>,
    from: Option<String>,
    to: Option<String>,
    as_of: Option<String>,
}

/// Comma-separated names (`ets,naive`); an empty name is an error.
fn names(name: &str, text: Option<&str>) -> Result<Vec<String>, ApiError> {
    let Some(text) = text else { return Ok(Vec::new()) };
    text.split(',')
        .map(|n| {
            let n = n.trim();
            if n.is_empty() {
                Err(ApiError::bad_parameter(format!("{name}: `{text}` has an empty name")))
            } else {
                Ok(n.to_string())
            }
        })
        .collect()
}

fn reconciliation(text: Option<&str>) -> Result<Option<Reconciliation>, ApiError> {
    match text.map(str::trim) {
        None | Some("false") => Ok(None),
        Some("true") => Ok(Some(Reconciliation::Wls)),
        Some(other) => Reconciliation::parse(other).map(Some).map_err(|_| {
            ApiError::bad_parameter(format!("reconcile: `{other}` is not wls, ols, mint, bottom-up, true or false"))
        }),
    }
}

/// The request a forecast URL makes; defaults as on the command line.
pub(crate) fn forecast_request(dataflow: String, p: ForecastParams) -> Result<ForecastRequest, ApiError> {
    let defaults = ForecastRequest::default();
    let scenarios = names("scenario", p.scenario.as_deref())?;
    if let Some(bad) = scenarios.iter().find(|s| s.contains(['/', '\\', '.'])) {
        return Err(ApiError::bad_parameter(format!(
            "scenario: `{bad}` is not the name of a bundled scenario (such as brain-drain); files are not read over HTTP"
        )));
    }
    Ok(ForecastRequest {
        dataflow,
        keys: p.key.into_iter().collect(),
        horizon: p.horizon.as_deref().map(|t| whole_number("horizon", t)).transpose()?.unwrap_or(defaults.horizon),
        model: p.model.unwrap_or(defaults.model),
        scenarios: scenarios.into_iter().map(ScenarioSource::Bundled).collect(),
        from: p.from.as_deref().map(|t| year("from", t)).transpose()?,
        to: p.to.as_deref().map(|t| year("to", t)).transpose()?,
        as_of: p.as_of,
        compare_un: boolean("compare_un", p.compare_un.as_deref())?,
        reconcile: reconciliation(p.reconcile.as_deref())?,
        show_history: p
            .show_history
            .as_deref()
            .map(|t| whole_number("show_history", t))
            .transpose()?
            .unwrap_or(defaults.show_history),
    })
}

pub(crate) fn backtest_request(dataflow: String, p: BacktestParams) -> Result<BacktestRequest, ApiError> {
    let defaults = BacktestRequest::default();
    Ok(BacktestRequest {
        dataflow,
        keys: p.key.into_iter().collect(),
        horizon: p.horizon.as_deref().map(|t| whole_number("horizon", t)).transpose()?.unwrap_or(defaults.horizon),
        origins: p.origins.as_deref().map(|t| whole_number("origins", t)).transpose()?.unwrap_or(defaults.origins),
        models: names("model", p.model.as_deref())?,
        from: p.from.as_deref().map(|t| year("from", t)).transpose()?,
        to: p.to.as_deref().map(|t| year("to", t)).transpose()?,
        as_of: p.as_of,
    })
}

pub(crate) async fn forecast(
    State(server): State<Arc<Server>>,
    Segment(dataflow): Segment<String>,
    Params(p): Params<ForecastParams>,
) -> Result<JsonBytes, ApiError> {
    let request = forecast_request(dataflow, p)?;
    blocking(move || {
        report_json(
            &server.app.forecast(&request)?,
            server.max_response_bytes,
            "ask for fewer series (a narrower key) or a shorter horizon",
        )
    })
    .await
}

pub(crate) async fn backtest(
    State(server): State<Arc<Server>>,
    Segment(dataflow): Segment<String>,
    Params(p): Params<BacktestParams>,
) -> Result<JsonBytes, ApiError> {
    let request = backtest_request(dataflow, p)?;
    blocking(move || {
        report_json(
            &server.app.backtest(&request)?,
            server.max_response_bytes,
            "ask for fewer series (a narrower key) or a shorter horizon",
        )
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: &str) -> ForecastParams {
        serde_urlencoded::from_str(query).unwrap()
    }

    #[test]
    fn parameters_become_the_request() {
        let r = forecast_request(
            "MIG_EXT".into(),
            params("key=KAZ.WLD._T._T.NET&horizon=7&compare_un=true&scenario=brain-drain,zero-migration&from=2000"),
        )
        .unwrap();
        assert_eq!(r.keys, ["KAZ.WLD._T._T.NET"]);
        assert_eq!((r.horizon, r.compare_un, r.from, r.show_history), (7, true, Some(2000), 5));
        assert_eq!(
            r.scenarios,
            [ScenarioSource::Bundled("brain-drain".into()), ScenarioSource::Bundled("zero-migration".into())]
        );
        assert_eq!(
            forecast_request("X".into(), params("reconcile=true")).unwrap().reconcile,
            Some(Reconciliation::Wls)
        );
        assert_eq!(
            forecast_request("X".into(), params("reconcile=bottom-up")).unwrap().reconcile,
            Some(Reconciliation::BottomUp)
        );
        for bad in [
            "scenario=../../etc/passwd",
            "scenario=data/scenarios/brain-drain.toml",
            "horizon=x",
            "from=20",
            "reconcile=maybe",
            "compare_un=yes",
        ] {
            let e = forecast_request("X".into(), params(bad)).unwrap_err();
            assert_eq!(e.code, "BAD_PARAMETER", "{bad}");
        }
    }
}
