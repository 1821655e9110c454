//! Model files: versioned JSON, validated on load, exact round trips, and predictions from a
//! loaded model identical (bit for bit) to those from the fitted one.

use clv::fit::{FORMAT_VERSION, MaximumLikelihood, ModelFile};
use clv::io::read_summary;
use clv::predict::score;
use clv::value::{ClvOptions, DiscountRate, summary_values};
use clv::{BgNbdParams, Error, FitOptions, Fitted, GammaGammaParams, RfmSummary, TimeUnit};
use proptest::prelude::*;

fn cdnow() -> RfmSummary {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/cdnow_customers_summary.csv"
    ))
    .unwrap();
    read_summary(text.as_bytes(), TimeUnit::Weeks).unwrap()
}

fn cdnow_spend() -> RfmSummary {
    // the CDNOW summary with a spend column (mean repeat spend from the bundled sample)
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/CDNOW_sample.txt");
    let opts = clv::SummaryOptions::new(
        chrono::NaiveDate::from_ymd_opt(1997, 9, 30).unwrap(),
        TimeUnit::Weeks,
    )
    .with_observation_end(chrono::NaiveDate::from_ymd_opt(1998, 6, 30).unwrap())
    .unwrap();
    let mut b = clv::SummaryBuilder::new(opts);
    clv::io::read_transactions_into(path, &clv::io::TransactionFormat::cdnow_sample(), &mut b)
        .unwrap();
    b.finish().unwrap().summary
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn a_round_trip_is_exact_and_predicts_the_same_bits() {
    let s = cdnow_spend();
    let bg = BgNbdParams::fit(&s, &FitOptions::default()).unwrap();
    let gg = GammaGammaParams::fit(&s, &FitOptions::default()).unwrap();
    let json_bg = ModelFile::from_fitted(&bg).to_json().unwrap();
    let json_gg = ModelFile::from_fitted(&gg).to_json().unwrap();
    let bg2: Fitted<BgNbdParams> = ModelFile::from_json(&json_bg).unwrap().to_fitted().unwrap();
    let gg2: Fitted<GammaGammaParams> =
        ModelFile::from_json(&json_gg).unwrap().to_fitted().unwrap();
    assert_eq!(bg2, bg);
    assert_eq!(gg2, gg);
    assert_eq!(bits(&bg2.params().to_vec()), bits(&bg.params().to_vec()));
    // writing the loaded model gives the same file
    assert_eq!(ModelFile::from_fitted(&bg2).to_json().unwrap(), json_bg);
    // predictions: scores and CLV, to the bit
    let a = score(bg.params(), &s, 39.0).unwrap();
    let b = score(bg2.params(), &s, 39.0).unwrap();
    assert_eq!(a, b);
    let opts = ClvOptions::new(52.0, TimeUnit::Weeks)
        .unwrap()
        .with_discount(DiscountRate::annual(0.1).unwrap())
        .unwrap();
    let v1 = summary_values(bg.params(), gg.params(), &s, &opts).unwrap();
    let v2 = summary_values(bg2.params(), gg2.params(), &s, &opts).unwrap();
    assert_eq!(bits(&v1), bits(&v2));
}

/// A valid BG/NBD model file to corrupt.
fn valid_json() -> String {
    static JSON: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    JSON.get_or_init(|| {
        let f = BgNbdParams::fit(&cdnow(), &FitOptions::default()).unwrap();
        // the unit comes from the summary the model was fitted on
        assert_eq!(f.time_unit(), TimeUnit::Weeks);
        ModelFile::from_fitted(&f).to_json().unwrap()
    })
    .clone()
}

fn load(text: &str) -> clv::Result<Fitted<BgNbdParams>> {
    ModelFile::from_json(text)?.to_fitted()
}

fn reason(e: Error) -> String {
    match e {
        Error::ModelFile { reason } => reason,
        other => panic!("expected Error::ModelFile, got {other:?}"),
    }
}

/// Edits the JSON as a value: `f` changes it.
fn edit(json: &str, f: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    f(&mut v);
    serde_json::to_string(&v).unwrap()
}

#[test]
fn bad_model_files_are_refused_with_the_field_named() {
    let good = valid_json();
    assert!(load(&good).is_ok());
    let se = |v: &serde_json::Value| v["standard_errors"]["r"].as_f64().unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        ("not JSON", "model: bgnbd".into(), "not JSON"),
        ("truncated", good[..good.len() / 2].into(), "not JSON"),
        ("not an object", "[1, 2]".into(), "not a JSON object"),
        (
            "wrong version",
            edit(&good, |v| v["format_version"] = 3.into()),
            "format_version 3 is not supported (this build reads versions 1 and 2)",
        ),
        (
            "version as text",
            edit(&good, |v| v["format_version"] = "2".into()),
            "format_version \"2\" is not supported",
        ),
        (
            "no version",
            edit(&good, |v| {
                v.as_object_mut().unwrap().remove("format_version");
            }),
            "missing field `format_version`",
        ),
        (
            "another model",
            edit(&good, |v| v["model"] = "paretonbd".into()),
            "holds a 'paretonbd' model, expected 'bgnbd'",
        ),
        (
            "missing field",
            edit(&good, |v| {
                v.as_object_mut().unwrap().remove("log_likelihood");
            }),
            "missing field `log_likelihood`",
        ),
        (
            "unknown field",
            edit(&good, |v| v["comment"] = "hi".into()),
            "unknown field `comment`",
        ),
        (
            "missing parameter",
            edit(&good, |v| {
                v["params"].as_object_mut().unwrap().remove("alpha");
            }),
            "parameter 'alpha' is missing",
        ),
        (
            "unknown parameter",
            edit(&good, |v| v["params"]["s"] = 1.0.into()),
            "unknown parameter 's'",
        ),
        (
            "negative parameter",
            edit(&good, |v| v["params"]["a"] = (-0.5).into()),
            "params: invalid parameter a = -0.5: must be finite and > 0",
        ),
        (
            "NaN written as null",
            edit(&good, |v| v["params"]["r"] = serde_json::Value::Null),
            "invalid type: null, expected f64",
        ),
        (
            "a number too large for f64",
            good.replacen("\"log_likelihood\": -", "\"log_likelihood\": -1e999", 1),
            "not JSON: number out of range",
        ),
        (
            "customers",
            edit(&good, |v| v["n_customers"] = 0.into()),
            "n_customers must be >= 1, got 0",
        ),
        (
            "rows",
            edit(&good, |v| v["n_rows"] = 1_000_000.into()),
            "n_rows must be in 1..=2357, got 1000000",
        ),
        (
            "penalizer",
            edit(&good, |v| v["penalizer"] = (-1.0).into()),
            "penalizer must be >= 0, got -1",
        ),
        (
            "covariance not square",
            edit(&good, |v| {
                v["covariance"].as_array_mut().unwrap().pop();
            }),
            "covariance must be a finite symmetric 4x4 matrix with a positive diagonal",
        ),
        (
            "covariance not symmetric",
            edit(&good, |v| v["covariance"][0][1] = 0.5.into()),
            "covariance must be a finite symmetric 4x4 matrix with a positive diagonal",
        ),
        (
            "standard error edited",
            edit(&good, |v| {
                let x = se(v) * 2.0;
                v["standard_errors"]["r"] = x.into();
            }),
            "standard_errors must be the square roots of the covariance diagonal",
        ),
        (
            "covariance without the flag",
            edit(&good, |v| {
                v["convergence"]["hessian_positive_definite"] = false.into()
            }),
            "covariance must be present exactly when the Hessian was positive definite",
        ),
        (
            "period of -1 days",
            edit(&good, |v| {
                v["time_unit"] = serde_json::json!({"periods": -1.0})
            }),
            "time_unit: invalid option period length in days: must be finite and > 0, got -1",
        ),
        (
            "parameter order",
            edit(&good, |v| v["parameter_order"][0] = "alpha".into()),
            "parameter_order must be [\"r\", \"alpha\", \"a\", \"b\"]",
        ),
    ];
    let n = cases.len();
    for (name, text, want) in cases {
        let got = reason(load(&text).unwrap_err());
        assert!(got.contains(want), "{name}: got '{got}', want '{want}'");
    }
    assert!(n >= 20);
    assert_eq!(FORMAT_VERSION, 2);
}

/// Version-1 files (reason, method and warnings as free text) still load: the texts are
/// mapped to the typed codes, unknown warning texts kept as `legacy` warnings, an unknown
/// method refused.
#[test]
fn version_1_files_load_with_their_texts_mapped_to_codes() {
    use clv::fit::{FitWarning, Method, Termination};
    let good = valid_json();
    let v1 = edit(&good, |v| {
        v["format_version"] = 1.into();
        v["convergence"]["reason"] = "gradient tolerance reached".into();
        v["convergence"]["method"] = "Newton".into();
        v["warnings"] = serde_json::json!(["an old warning"]);
    });
    let f = load(&v1).unwrap();
    let c = f.convergence();
    assert_eq!(
        (c.reason, c.method),
        (Termination::GradientTolerance, Method::Newton)
    );
    assert_eq!(
        f.warnings(),
        &[FitWarning::Legacy {
            message: "an old warning".into()
        }]
    );
    assert_eq!(f.params(), load(&good).unwrap().params());
    let fallback = edit(&v1, |v| {
        v["convergence"]["reason"] =
            "stationary point reached after the fallback (Nelder-Mead)".into();
        v["convergence"]["method"] = "Nelder-Mead + L-BFGS".into();
    });
    let c = load(&fallback).unwrap().convergence().clone();
    assert_eq!(
        (c.reason, c.method),
        (Termination::FallbackStationary, Method::NelderMeadLbfgs)
    );
    let bad_method = edit(&v1, |v| v["convergence"]["method"] = "BFGS".into());
    assert!(reason(load(&bad_method).unwrap_err()).contains("convergence.method 'BFGS'"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any valid parameter values, standard errors and log-likelihood survive the JSON round
    /// trip bit for bit (including subnormal and extreme magnitudes).
    #[test]
    fn any_valid_model_round_trips_exactly(
        theta in proptest::collection::vec(
            prop_oneof![1e-300..1e300f64, f64::MIN_POSITIVE..1e-5, 1e-3..1e3f64], 4),
        ll in -1e300..0.0f64,
        var in proptest::collection::vec(1e-300..1e300f64, 4),
        n in 1usize..1_000_000,
        g in 0.0..1.0f64,
    ) {
        let json = valid_json();
        let json = edit(&json, |v| {
            for (name, t) in ["r", "alpha", "a", "b"].iter().zip(&theta) {
                v["params"][*name] = (*t).into();
            }
            for i in 0..4 {
                for j in 0..4 {
                    v["covariance"][i][j] = if i == j { var[i] } else { 0.0 }.into();
                }
                v["standard_errors"][["r", "alpha", "a", "b"][i]] = var[i].sqrt().into();
            }
            v["log_likelihood"] = ll.into();
            v["n_customers"] = (n as f64).into();
            v["n_rows"] = n.into();
            v["convergence"]["gradient_norm"] = g.into();
        });
        let f = load(&json).unwrap();
        prop_assert_eq!(bits(&f.params().to_vec()), bits(&theta));
        prop_assert_eq!(f.log_likelihood().to_bits(), ll.to_bits());
        let again = ModelFile::from_fitted(&f).to_json().unwrap();
        let f2 = load(&again).unwrap();
        prop_assert_eq!(f2, f);
    }
}
