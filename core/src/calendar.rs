//! Calendar arithmetic: Unix seconds to and from RFC 3339 UTC strings, the times of the
//! entitlements JSON (SPEC §7.6). It replaced chrono, whose formatting and time-zone code cost the
//! size-budgeted web module; its tests check it against chrono.

/// Unix seconds as an RFC 3339 UTC string, e.g. `2026-12-01T00:00:00Z`. RFC 3339 has four-digit
/// years, so a time outside years 0000–9999 (a "perpetual" license's `exp` far in the future, say)
/// is written as the nearest one inside: `9999-12-31T23:59:59Z` or `0000-01-01T00:00:00Z`, which
/// every reader (JS `Date`, Python `datetime.fromisoformat`) parses.
pub fn rfc3339(unix: i64) -> String {
    /// `0000-01-01T00:00:00Z` and `9999-12-31T23:59:59Z`.
    const FIRST: i64 = -62_167_219_200;
    const LAST: i64 = 253_402_300_799;
    let unix = unix.clamp(FIRST, LAST);
    let (date, time) = (unix.div_euclid(DAY), unix.rem_euclid(DAY));
    let (year, month, day) = civil_from_days(date);
    let mut text = String::with_capacity(20);
    for (value, digits, then) in [
        (year, 1000, '-'),
        (month, 10, '-'),
        (day, 10, 'T'),
        (time / 3600, 10, ':'),
        (time / 60 % 60, 10, ':'),
        (time % 60, 10, 'Z'),
    ] {
        let mut unit = digits;
        while unit > 0 {
            text.push(char::from(b'0' + (value / unit % 10) as u8));
            unit /= 10;
        }
        text.push(then);
    }
    text
}

const DAY: i64 = 86_400;

/// The Unix time of an RFC 3339 date-time, read as `chrono::DateTime::parse_from_rfc3339` reads
/// one (its `timestamp()`): `YYYY-MM-DD`, `T`, `t` or a space, `HH:MM:SS` (`60` is a leap second,
/// counted as `59`), an optional `.` and one or more digits (ignored), then `Z`, `z` or an offset
/// `+HH:MM` or `-HH:MM` (also with U+2212 MINUS SIGN) of less than 24 hours; nothing else.
/// `None` for anything else.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let number = |from: usize, len: usize| -> Option<i64> {
        let mut n = 0;
        for at in from..from + len {
            let digit = bytes.get(at).filter(|b| b.is_ascii_digit())?;
            n = n * 10 + i64::from(digit - b'0');
        }
        Some(n)
    };
    let is = |at: usize, expected: u8| bytes.get(at) == Some(&expected);
    if !(is(4, b'-')
        && is(7, b'-')
        && matches!(bytes.get(10), Some(b'T' | b't' | b' '))
        && is(13, b':')
        && is(16, b':'))
    {
        return None;
    }
    let (year, month, day) = (number(0, 4)?, number(5, 2)?, number(8, 2)?);
    let (hour, minute, second) = (number(11, 2)?, number(14, 2)?, number(17, 2)?);
    if !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = bytes.get(19..)?;
    if let Some((b'.', fraction)) = rest.split_first() {
        let digits = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        rest = fraction.get(digits..)?;
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        _ => {
            let (negative, hours_minutes) = match rest {
                [b'+', tail @ ..] => (false, tail),
                [b'-', tail @ ..] => (true, tail),
                // U+2212 MINUS SIGN
                [0xE2, 0x88, 0x92, tail @ ..] => (true, tail),
                _ => return None,
            };
            let &[h1, h2, b':', m1 @ b'0'..=b'5', m2] = hours_minutes else {
                return None;
            };
            if !(h1.is_ascii_digit() && h2.is_ascii_digit() && m2.is_ascii_digit()) {
                return None;
            }
            let seconds = i64::from(h1 - b'0') * 36_000
                + i64::from(h2 - b'0') * 3600
                + i64::from(m1 - b'0') * 600
                + i64::from(m2 - b'0') * 60;
            if seconds >= DAY {
                return None;
            }
            if negative {
                -seconds
            } else {
                seconds
            }
        }
    };
    Some(
        days_from_civil(year, month, day) * DAY + hour * 3600 + minute * 60 + second.min(59)
            - offset,
    )
}

/// Days in `month` (1 to 12) of `year`, in the proleptic Gregorian calendar.
fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date `(year, month, day)` of a day counted from 1970-01-01 (H.
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What chrono (the reader and writer this module used before) makes of `text`.
    fn chrono_parse(text: &str) -> Option<i64> {
        chrono::DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.timestamp())
    }

    fn chrono_format(unix: i64) -> String {
        chrono::DateTime::from_timestamp(unix.clamp(-62_167_219_200, 253_402_300_799), 0)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    }

    #[test]
    fn rfc3339_times_are_read_as_chrono_reads_them() {
        for text in [
            "",
            "2026-12-01T00:00:00Z",
            "2026-12-01t00:00:00z",
            "2026-12-01 00:00:00Z",
            "2026-12-01T00:00:00",
            "2026-12-01T00:00:00ZZ",
            "2026-12-01T00:00:00Z ",
            " 2026-12-01T00:00:00Z",
            "2026-12-01T00:00:00.Z",
            "2026-12-01T00:00:00.5Z",
            "2026-12-01T00:00:00.123456789012345Z",
            "2026-12-01T00:00:00.999999999+01:00",
            "2016-12-31T23:59:60Z",
            "2016-12-31T23:59:60.999Z",
            "2016-12-31T23:58:60Z",
            "2016-12-31T23:59:61Z",
            "2026-12-01T24:00:00Z",
            "2026-12-01T23:60:00Z",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-12-00T00:00:00Z",
            "2026-12-32T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2000-02-29T00:00:00Z",
            "2004-02-29T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "0000-02-29T00:00:00Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "9999-12-31T23:59:59-23:59",
            "0000-01-01T00:00:00+23:59",
            "2026-12-01T00:00:00+23:59",
            "2026-12-01T00:00:00+24:00",
            "2026-12-01T00:00:00-00:00",
            "2026-12-01T00:00:00\u{2212}05:30",
            "2026-12-01T00:00:00\u{2013}05:30",
            "2026-12-01T00:00:00+05:60",
            "2026-12-01T00:00:00+05:59",
            "2026-12-01T00:00:00+0530",
            "2026-12-01T00:00:00+05",
            "2026-12-01T00:00:00+05:3",
            "2026-12-01T00:00:00+05:30:00",
            "2026-12-01T00:00:00+5:30",
            "+2026-12-01T00:00:00Z",
            "２026-12-01T00:00:00Z",
            "2026-12-01T00:00:0éZ",
            "2026-12-01T00:00:00.éZ",
            "2026/12/01T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(text), chrono_parse(text), "{text:?}");
        }
    }

    #[test]
    fn rfc3339_times_are_written_as_chrono_writes_them() {
        let mut unix = -62_167_219_200 - 10 * DAY;
        while unix < 253_402_300_799 + 10 * DAY {
            for t in [unix, unix + 1, unix + 86_399] {
                assert_eq!(rfc3339(t), chrono_format(t), "{t}");
            }
            unix += 9_999_991;
        }
        for t in [i64::MIN, i64::MAX, 0, -1, 951_782_400, 951_868_799] {
            assert_eq!(rfc3339(t), chrono_format(t), "{t}");
        }
    }

    proptest::proptest! {
        #[test]
        fn near_rfc3339_text_is_read_as_chrono_reads_it(
            text in "[0-9]{4}-[01][0-9]-[0-3][0-9][Tt ][0-2][0-9]:[0-6][0-9]:[0-6][0-9](\\.[0-9]{0,12})?([Zz]|[+\\-\u{2212}][0-2][0-9]:?[0-7][0-9])?.?"
        ) {
            proptest::prop_assert_eq!(parse_rfc3339(&text), chrono_parse(&text), "{:?}", text);
        }

        #[test]
        fn any_time_is_written_and_read_back_as_chrono_does(unix in proptest::num::i64::ANY) {
            let text = rfc3339(unix);
            proptest::prop_assert_eq!(&text, &chrono_format(unix));
            proptest::prop_assert_eq!(parse_rfc3339(&text), chrono_parse(&text));
        }
    }
}
