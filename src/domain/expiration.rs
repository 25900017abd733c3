//! When an upload expires: parsing the ISO 8601 duration a client sends and clamping it to
//! one minute to one year.
//!
//! Chevereto's shortest choice is 5 minutes, but clients send `PT1M` and expect the upload to
//! be gone a minute later, so anything from one minute up is honoured as asked.
//!
//! The grammar is parsed here rather than by the `iso8601` crate, because that crate changes
//! what a client asked for without saying so: `P1W2D` comes back as one week, `PT0.5H` as
//! zero, `P1DT` is accepted, and a number past `u32` fails instead of clamping to a year. The
//! tests check this parser against the crate wherever the crate reads the input faithfully.

use chrono::{DateTime, Days, Months, TimeDelta, Utc};
use thiserror::Error;

/// Chevereto's expiration choices, as `(ISO 8601 duration, label)`, shortest first.
pub const CHOICES: &[(&str, &str)] = &[
    ("PT5M", "5 minutes"),
    ("PT15M", "15 minutes"),
    ("PT30M", "30 minutes"),
    ("PT1H", "1 hour"),
    ("PT3H", "3 hours"),
    ("PT6H", "6 hours"),
    ("PT12H", "12 hours"),
    ("P1D", "1 day"),
    ("P2D", "2 days"),
    ("P3D", "3 days"),
    ("P4D", "4 days"),
    ("P5D", "5 days"),
    ("P6D", "6 days"),
    ("P1W", "1 week"),
    ("P2W", "2 weeks"),
    ("P3W", "3 weeks"),
    ("P1M", "1 month"),
    ("P2M", "2 months"),
    ("P3M", "3 months"),
    ("P4M", "4 months"),
    ("P5M", "5 months"),
    ("P6M", "6 months"),
    ("P1Y", "1 year"),
];

const MIN_SECONDS: u64 = 60;
const MAX_MONTHS: u32 = 12;
const SECONDS_PER_DAY: u64 = 24 * 60 * 60;

// Each part is capped just past what a year can hold, so arithmetic on absurd inputs cannot
// overflow while the result still clamps to exactly one year.
const MONTHS_CAP: u64 = MAX_MONTHS as u64 + 1;
const DAYS_CAP: u64 = 367;
const SECONDS_CAP: u64 = DAYS_CAP * SECONDS_PER_DAY;

/// Used only for the log hint: the mean Gregorian month.
const SECONDS_PER_AVERAGE_MONTH: i64 = 2_629_746;

/// The longest piece of a refused value echoed back in the error message.
const ECHO_LIMIT: usize = 40;

/// The input was not an ISO 8601 duration sajin accepts.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "Invalid expiration \"{0}\": use an ISO 8601 duration such as PT5M, P3D or P1W \
     (1 minute to 1 year)"
)]
pub struct ExpirationError(String);

/// A validated, non-zero expiration. Calendar parts stay calendar parts, so `P1M` from
/// 31 January ends on the last day of February rather than after a fixed number of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiration {
    months: u32,
    days: u64,
    seconds: u64,
}

impl Expiration {
    /// The moment an upload made at `now` expires, clamped to 1 minute and 1 year after
    /// `now`.
    pub fn expires_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let earliest = now + TimeDelta::seconds(MIN_SECONDS as i64);
        let latest = add_months(now, MAX_MONTHS);
        let unclamped = self.add_to(now).unwrap_or(latest);

        unclamped.clamp(earliest, latest)
    }

    /// The approximate length in seconds, clamped like [`expires_at`](Self::expires_at);
    /// months count as the mean Gregorian month. For logs, not for arithmetic.
    pub fn as_seconds_hint(&self) -> i64 {
        let months = i64::from(self.months) * SECONDS_PER_AVERAGE_MONTH;
        let rest = (self.days * SECONDS_PER_DAY + self.seconds) as i64;
        let year = i64::from(MAX_MONTHS) * SECONDS_PER_AVERAGE_MONTH;

        (months + rest).clamp(MIN_SECONDS as i64, year)
    }

    fn is_zero(&self) -> bool {
        self.months == 0 && self.days == 0 && self.seconds == 0
    }

    fn add_to(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        now.checked_add_months(Months::new(self.months))?
            .checked_add_days(Days::new(self.days))?
            .checked_add_signed(TimeDelta::seconds(self.seconds as i64))
    }
}

/// Parses a client's expiration. Empty or blank input means "never expires".
pub fn parse_expiration(raw: &str) -> Result<Option<Expiration>, ExpirationError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }

    let expiration = parse_duration(&trimmed.to_ascii_uppercase())
        .filter(|expiration| !expiration.is_zero())
        .ok_or_else(|| ExpirationError(echo(trimmed)))?;
    Ok(Some(expiration))
}

/// The parts of `P[nY][nM][nW][nD][T[nH][nM][nS]]` in the order they must appear. Weeks may
/// be combined with days, as PHP's `DateInterval` allows.
const DATE_UNITS: &[(char, Unit)] = &[
    ('Y', Unit::Months(12)),
    ('M', Unit::Months(1)),
    ('W', Unit::Days(7)),
    ('D', Unit::Days(1)),
];
const TIME_UNITS: &[(char, Unit)] = &[
    ('H', Unit::Seconds(3600)),
    ('M', Unit::Seconds(60)),
    ('S', Unit::Seconds(1)),
];

#[derive(Clone, Copy)]
enum Unit {
    Months(u64),
    Days(u64),
    Seconds(u64),
}

/// Parses an upper-cased duration, or `None` when it is malformed.
fn parse_duration(text: &str) -> Option<Expiration> {
    let body = text.strip_prefix('P')?;
    let (date, time) = match body.split_once('T') {
        Some((date, time)) if !time.is_empty() => (date, Some(time)),
        Some(_) => return None,
        None => (body, None),
    };
    if date.is_empty() && time.is_none() {
        return None;
    }

    let mut totals = Totals::default();
    parse_parts(date, DATE_UNITS, &mut totals)?;
    if let Some(time) = time {
        parse_parts(time, TIME_UNITS, &mut totals)?;
    }
    Some(totals.into_expiration())
}

/// Reads `<digits><unit>` pairs whose units follow the order of `units`, each at most once.
fn parse_parts(mut text: &str, units: &[(char, Unit)], totals: &mut Totals) -> Option<()> {
    let mut allowed = units;
    while !text.is_empty() {
        let digits_end = text.find(|c: char| !c.is_ascii_digit())?;
        if digits_end == 0 {
            return None;
        }
        let (digits, rest) = text.split_at(digits_end);
        let designator = rest.chars().next()?;

        let position = allowed.iter().position(|&(c, _)| c == designator)?;
        totals.add(allowed[position].1, saturating_number(digits));
        allowed = &allowed[position + 1..];
        text = &rest[designator.len_utf8()..];
    }
    Some(())
}

/// Reads a run of ASCII digits, saturating instead of overflowing; the caps make the exact
/// value of a huge number irrelevant.
fn saturating_number(digits: &str) -> u64 {
    digits.bytes().fold(0u64, |acc, digit| {
        acc.saturating_mul(10)
            .saturating_add(u64::from(digit - b'0'))
    })
}

#[derive(Default)]
struct Totals {
    months: u64,
    days: u64,
    seconds: u64,
}

impl Totals {
    fn add(&mut self, unit: Unit, count: u64) {
        let (total, factor, cap) = match unit {
            Unit::Months(factor) => (&mut self.months, factor, MONTHS_CAP),
            Unit::Days(factor) => (&mut self.days, factor, DAYS_CAP),
            Unit::Seconds(factor) => (&mut self.seconds, factor, SECONDS_CAP),
        };
        *total = total.saturating_add(count.saturating_mul(factor)).min(cap);
    }

    fn into_expiration(self) -> Expiration {
        Expiration {
            // The cap keeps months far below u32::MAX.
            months: self.months as u32,
            days: self.days,
            seconds: self.seconds,
        }
    }
}

fn add_months(now: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    now.checked_add_months(Months::new(months))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn echo(raw: &str) -> String {
    match raw.char_indices().nth(ECHO_LIMIT) {
        Some((cut, _)) => format!("{}…", &raw[..cut]),
        None => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, 31, 12, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn length_of(raw: &str) -> TimeDelta {
        match parse_expiration(raw) {
            Ok(Some(expiration)) => expiration.expires_at(now()) - now(),
            other => panic!("{raw:?} should parse, got {other:?}"),
        }
    }

    #[test]
    fn blank_input_means_the_upload_never_expires() {
        for raw in ["", " ", "\t\n "] {
            assert_eq!(parse_expiration(raw), Ok(None), "{raw:?}");
        }
    }

    #[test]
    fn durations_end_at_the_expected_moment() {
        let minute = TimeDelta::minutes(1);
        let hour = TimeDelta::hours(1);
        let day = TimeDelta::days(1);
        let cases: &[(&str, TimeDelta)] = &[
            ("PT1M", minute),
            ("PT60S", minute),
            ("PT5M", minute * 5),
            ("PT1H", hour),
            ("PT90M", minute * 90),
            ("PT3600S", hour),
            ("P3D", day * 3),
            ("p3d", day * 3),
            ("  P3D  ", day * 3),
            ("P1DT2H", day + hour * 2),
            ("P1W", day * 7),
            ("P1W2D", day * 9),
            ("PT1H30M", hour + minute * 30),
            ("P0DT10M", minute * 10),
            // From 31 January 2024 one calendar month ends on 29 February.
            ("P1M", day * 29),
            ("P1Y", day * 366),
            ("P6M", day * 182),
        ];

        for &(raw, expected) in cases {
            assert_eq!(length_of(raw), expected, "{raw}");
        }
    }

    #[test]
    fn durations_outside_the_range_are_clamped_to_it() {
        let year = TimeDelta::days(366);
        let cases: &[(&str, TimeDelta)] = &[
            ("PT1S", TimeDelta::minutes(1)),
            ("PT59S", TimeDelta::minutes(1)),
            ("P1000Y", year),
            ("P13M", year),
            ("P400D", year),
            ("PT9000000H", year),
            ("P99999999999Y", year),
            ("P99999999999999999999999999999Y", year),
            ("P1Y1D", year),
            ("P18446744073709551615W", year),
        ];

        for &(raw, expected) in cases {
            assert_eq!(length_of(raw), expected, "{raw}");
        }
    }

    #[test]
    fn malformed_zero_negative_and_bare_numbers_are_refused() {
        let cases = [
            "tomorrow",
            "P",
            "PT",
            "1D",
            "PT0S",
            "P0D",
            "P0Y0M0DT0H0M0S",
            "-P1D",
            "300",
            "P1H",
            "PT1D",
            "P1DT",
            "P1D1Y",
            "P1D1D",
            "P1.5D",
            "PT0.5H",
            "P D",
            "P1DX",
            "P1DT2H3",
            "P+1D",
            "P1Dü",
            "ÜP1D",
        ];

        for raw in cases {
            assert!(parse_expiration(raw).is_err(), "{raw:?} should be refused");
        }
    }

    #[test]
    fn the_error_names_the_value_and_the_accepted_form() {
        let message = parse_expiration("300").err().map(|e| e.to_string());

        assert_eq!(
            message.as_deref(),
            Some(
                "Invalid expiration \"300\": use an ISO 8601 duration such as PT5M, P3D or P1W \
                 (1 minute to 1 year)"
            )
        );
    }

    #[test]
    fn the_error_does_not_echo_a_long_value_in_full() {
        let raw = "x".repeat(10_000);
        let message = parse_expiration(&raw)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();

        assert!(message.len() < 200, "{message}");
    }

    #[test]
    fn every_chevereto_choice_parses_and_they_run_from_five_minutes_to_a_year() {
        assert_eq!(CHOICES.len(), 23);
        assert_eq!(CHOICES.first(), Some(&("PT5M", "5 minutes")));
        assert_eq!(CHOICES.last(), Some(&("P1Y", "1 year")));

        let lengths: Vec<TimeDelta> = CHOICES.iter().map(|(raw, _)| length_of(raw)).collect();
        assert!(
            lengths.windows(2).all(|pair| pair[0] < pair[1]),
            "{lengths:?}"
        );
    }

    #[test]
    fn the_seconds_hint_is_roughly_the_length_and_clamped() {
        let hint = |raw: &str| {
            parse_expiration(raw)
                .ok()
                .flatten()
                .map(|e| e.as_seconds_hint())
        };
        let cases: &[(&str, i64)] = &[
            ("PT1S", 60),
            ("PT1M", 60),
            ("PT5M", 300),
            ("P1DT1S", 86_401),
            ("P1W", 604_800),
            ("P1M", 2_629_746),
            ("P1Y", 31_556_952),
            ("P99999999999Y", 31_556_952),
            ("P400D", 31_556_952),
        ];

        for &(raw, expected) in cases {
            assert_eq!(hint(raw), Some(expected), "{raw}");
        }
    }

    /// The length `iso8601` gives a duration, for inputs it reads faithfully.
    fn crate_length(raw: &str) -> Option<TimeDelta> {
        let iso8601::Duration::YMDHMS {
            year,
            month,
            day,
            hour,
            minute,
            second,
            millisecond,
        } = iso8601::duration(raw).ok()?
        else {
            return None;
        };
        let calendar = now().checked_add_months(Months::new(year * 12 + month))?;
        let end = calendar.checked_add_days(Days::new(u64::from(day)))?
            + TimeDelta::hours(i64::from(hour))
            + TimeDelta::minutes(i64::from(minute))
            + TimeDelta::seconds(i64::from(second))
            + TimeDelta::milliseconds(i64::from(millisecond));
        Some(end - now())
    }

    #[test]
    fn lengths_agree_with_the_iso8601_crate_where_it_reads_the_input_faithfully() {
        let cases = [
            "PT1M",
            "PT5M",
            "PT90M",
            "PT1H30M",
            "PT3600S",
            "PT36H",
            "P1D",
            "P3D",
            "P1DT2H",
            "P400D",
            "P1M",
            "P2M",
            "P6M",
            "P1Y",
            "P1Y2M3DT4H5M6S",
            "P0DT10M",
        ];

        for raw in cases {
            let ours = length_of(raw);
            let theirs = crate_length(raw).map(|length| {
                length.clamp(TimeDelta::seconds(MIN_SECONDS as i64), TimeDelta::days(366))
            });
            assert_eq!(Some(ours), theirs, "{raw}");
        }
    }
}
