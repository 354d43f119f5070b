//! A manager's options, checked once when it is built.

use std::fmt;

use chrono::TimeDelta;

/// Default session lifetime: one day.
pub const DEFAULT_TIMEOUT_SECS: i64 = 86_400;
/// Default data limit, well under D1's 2 MB row limit.
pub const DEFAULT_MAX_DATA_BYTES: usize = 1_000_000;
/// The largest data limit allowed: D1 rows hold at most 2 MB, and the row has other columns.
pub const MAX_DATA_BYTES_LIMIT: usize = 1_900_000;
/// The longest timeout allowed (100 years), so every expiry stays an exact JS number.
pub const MAX_TIMEOUT_SECS: i64 = 100 * 365 * 86_400;
/// How long an operation waits on one D1 call by default before it fails with `db_error`
/// ("unavailable", never "signed out"). A healthy call takes milliseconds; D1's reported
/// stalls last 2–25 s, and apps bound their own auth reads at about 4 s: past 5 s a page is
/// better off saying "try again" than waiting out D1's own 30 s query limit.
pub const DEFAULT_OPERATION_TIMEOUT_MS: u32 = 5_000;
/// The longest wait allowed on one D1 call.
pub const MAX_OPERATION_TIMEOUT_MS: u32 = 600_000;
/// Default table name, the one `migrations/` creates.
pub const DEFAULT_TABLE: &str = "sessions";

/// Options as they arrive, already of the right types; `None` takes the default.
#[derive(Debug, Default, Clone)]
pub struct ConfigInput {
    pub timeout_secs: Option<f64>,
    pub absolute_timeout_secs: Option<f64>,
    pub rolling: Option<bool>,
    pub max_data_bytes: Option<f64>,
    pub table_name: Option<String>,
    pub operation_timeout_ms: Option<f64>,
}

/// Checked options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// How long a session lives after its creation or last renewal (the idle timeout).
    pub timeout: TimeDelta,
    /// How long a session may live after its creation, whatever renews it; `None`: no limit.
    pub absolute_timeout: Option<TimeDelta>,
    /// Whether active sessions with less than half their timeout left are extended.
    pub rolling: bool,
    /// The most UTF-8 bytes a session's data may take as JSON.
    pub max_data_bytes: usize,
    /// The table, a plain SQL identifier.
    pub table: String,
    /// How long a surface waits on one D1 call before failing the operation.
    pub operation_timeout_ms: u32,
}

/// An option whose value is outside what it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The option's name as users write it.
    pub option: &'static str,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.option, self.message)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Checks `input` and fills in defaults.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first option out of range.
    pub fn from_input(input: ConfigInput) -> Result<Self, ConfigError> {
        let timeout_secs = match input.timeout_secs {
            None => DEFAULT_TIMEOUT_SECS,
            Some(secs) => whole_number_in("timeout", secs, MAX_TIMEOUT_SECS as f64)? as i64,
        };
        let absolute_timeout = match input.absolute_timeout_secs {
            None => None,
            Some(secs) => {
                let secs = whole_number_in("absoluteTimeout", secs, MAX_TIMEOUT_SECS as f64)?;
                if (secs as i64) < timeout_secs {
                    return Err(ConfigError {
                        option: "absoluteTimeout",
                        message: format!("must not be below timeout ({timeout_secs}), got {secs}"),
                    });
                }
                Some(TimeDelta::seconds(secs as i64))
            }
        };
        let max_data_bytes = match input.max_data_bytes {
            None => DEFAULT_MAX_DATA_BYTES,
            Some(n) => whole_number_in("maxDataBytes", n, MAX_DATA_BYTES_LIMIT as f64)? as usize,
        };
        let table = match input.table_name {
            None => DEFAULT_TABLE.to_owned(),
            Some(name) if is_plain_identifier(&name) => name,
            Some(_) => {
                return Err(ConfigError {
                    option: "tableName",
                    message: "must be a plain SQL identifier: a letter or _, then letters, \
                              digits or _, at most 64 characters, not starting with sqlite_"
                        .to_owned(),
                })
            }
        };
        let operation_timeout_ms = match input.operation_timeout_ms {
            None => DEFAULT_OPERATION_TIMEOUT_MS,
            Some(ms) => {
                whole_number_in("operationTimeout", ms, f64::from(MAX_OPERATION_TIMEOUT_MS))? as u32
            }
        };
        Ok(Config {
            timeout: TimeDelta::seconds(timeout_secs),
            absolute_timeout,
            operation_timeout_ms,
            rolling: input.rolling.unwrap_or(true),
            max_data_bytes,
            table,
        })
    }
}

fn whole_number_in(option: &'static str, value: f64, max: f64) -> Result<f64, ConfigError> {
    if value.is_finite() && value.fract() == 0.0 && value >= 1.0 && value <= max {
        Ok(value)
    } else {
        Err(ConfigError {
            option,
            message: format!("must be a whole number from 1 to {max}, got {value}"),
        })
    }
}

fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    starts_well
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.to_ascii_lowercase().starts_with("sqlite_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_missing_options() {
        let config = Config::from_input(ConfigInput::default()).unwrap();
        assert_eq!(config.timeout, TimeDelta::seconds(86_400));
        assert!(config.rolling);
        assert_eq!(config.max_data_bytes, 1_000_000);
        assert_eq!(config.table, "sessions");
    }

    #[test]
    fn timeout_must_be_a_positive_whole_number() {
        for bad in [0.0, -1.0, 1.5, f64::NAN, f64::INFINITY, 1e300] {
            let input = ConfigInput {
                timeout_secs: Some(bad),
                ..ConfigInput::default()
            };
            assert_eq!(
                Config::from_input(input).unwrap_err().option,
                "timeout",
                "{bad}"
            );
        }
        let input = ConfigInput {
            timeout_secs: Some(60.0),
            ..ConfigInput::default()
        };
        assert_eq!(
            Config::from_input(input).unwrap().timeout,
            TimeDelta::seconds(60)
        );
    }

    #[test]
    fn absolute_timeout_is_checked_like_timeout_and_not_below_it() {
        let with = |timeout: f64, absolute: f64| {
            Config::from_input(ConfigInput {
                timeout_secs: Some(timeout),
                absolute_timeout_secs: Some(absolute),
                ..ConfigInput::default()
            })
        };
        for bad in [0.0, -1.0, 1.5, f64::NAN, f64::INFINITY, 1e300, 59.0] {
            assert_eq!(
                with(60.0, bad).unwrap_err().option,
                "absoluteTimeout",
                "{bad}"
            );
        }
        assert_eq!(
            with(60.0, 60.0).unwrap().absolute_timeout,
            Some(TimeDelta::seconds(60))
        );
        assert_eq!(
            Config::from_input(ConfigInput::default())
                .unwrap()
                .absolute_timeout,
            None
        );
    }

    #[test]
    fn max_data_bytes_stays_under_the_d1_row_limit() {
        let input = ConfigInput {
            max_data_bytes: Some(2_000_000.0),
            ..ConfigInput::default()
        };
        assert_eq!(
            Config::from_input(input).unwrap_err().option,
            "maxDataBytes"
        );
    }

    #[test]
    fn table_name_must_be_a_plain_identifier() {
        for bad in [
            "",
            "1x",
            "a b",
            "x;drop table y",
            "t\"",
            "sqlite_master",
            &"a".repeat(65),
        ] {
            let input = ConfigInput {
                table_name: Some(bad.to_owned()),
                ..ConfigInput::default()
            };
            assert_eq!(
                Config::from_input(input).unwrap_err().option,
                "tableName",
                "{bad}"
            );
        }
        for good in ["sessions", "_s", "App_Sessions2"] {
            let input = ConfigInput {
                table_name: Some(good.to_owned()),
                ..ConfigInput::default()
            };
            assert_eq!(Config::from_input(input).unwrap().table, good);
        }
    }
}
