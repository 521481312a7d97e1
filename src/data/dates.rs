//! Human-written dates and their ISO form, for sequence-to-sequence models (SPEC A5/A6).
//!
//! [`generate_dates`] draws random calendar days between 1950-01-01 and 2049-12-31 and
//! writes each in one of [`FORMATS`] human formats ("3rd of march 1998", "mar 3, 98",
//! "03/03/1998", "tuesday, march 3, 1998", ..) beside its ISO form "1998-03-03".
//!
//! The conventions that make every string unambiguous: numeric dates with `/` or `-`
//! are day first (`dd/mm/yyyy`, `d/m/yy`, `dd-mm-yy`), numeric dates with `.` are year
//! first (`yyyy.mm.dd`), two-digit years 50-99 are 19xx and 00-49 are 20xx, and a
//! weekday, when written, is the right one.
//!
//! The test set holds *days* never seen in training: the calendar is split first (a
//! seeded tenth of the days for testing), then pairs are drawn from each part, so no
//! test date occurs in the training set in any format.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Full month names, January first.
pub const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Full weekday names, Monday first.
pub const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// Number of human formats [`format_date`] knows.
pub const FORMATS: usize = 15;

/// First and last year generated.
pub const YEARS: (i32, i32) = (1950, 2049);

/// How many date pairs to generate.
///
/// ```toml
/// [seq2seq.data]
/// train = 20000
/// test = 2000
/// seed = 7
/// ```
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DatesConfig {
    /// Training pairs (validation is carved from these by the trainer).
    #[serde(default = "default_train")]
    pub train: usize,
    /// Test pairs, on days that never occur in training.
    #[serde(default = "default_test")]
    pub test: usize,
    /// Seed of the day split and of the pairs.
    #[serde(default)]
    pub seed: u64,
}

fn default_train() -> usize {
    20_000
}
fn default_test() -> usize {
    2_000
}

impl Default for DatesConfig {
    fn default() -> Self {
        Self {
            train: default_train(),
            test: default_test(),
            seed: 0,
        }
    }
}

/// Generated `(human, iso)` pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct DatesData {
    /// Training pairs.
    pub train: Vec<(String, String)>,
    /// Test pairs, on days disjoint from the training days.
    pub test: Vec<(String, String)>,
}

/// A calendar date (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    /// Year, e.g. 1998.
    pub year: i32,
    /// Month 1-12.
    pub month: u32,
    /// Day of the month 1-31.
    pub day: u32,
}

impl Date {
    /// The date `days` days after 1970-01-01 (Hinnant's `civil_from_days`).
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// Days since 1970-01-01 (Hinnant's `days_from_civil`).
    pub fn to_days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// Day of the week, 0 = Monday .. 6 = Sunday (1970-01-01 was a Thursday).
    pub fn weekday(self) -> usize {
        (self.to_days() + 3).rem_euclid(7) as usize
    }

    /// `yyyy-mm-dd`.
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// `1st`, `2nd`, `3rd`, `4th`, .., `11th`, `21st`.
fn ordinal(day: u32) -> String {
    let suffix = match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{day}{suffix}")
}

/// Writes `date` in human format `format` (`0..FORMATS`).
///
/// # Panics
/// When `format >= FORMATS`.
pub fn format_date(date: Date, format: usize) -> String {
    let Date { year, month, day } = date;
    let name = MONTHS[month as usize - 1];
    let mon = &name[..3];
    let wd = WEEKDAYS[date.weekday()];
    let yy = year.rem_euclid(100);
    match format {
        0 => format!("{} of {name} {year}", ordinal(day)),
        1 => format!("{mon} {day}, {yy:02}"),
        2 => format!("{day:02}/{month:02}/{year}"),
        3 => format!("{wd}, {name} {day}, {year}"),
        4 => format!("{day} {mon} {year}"),
        5 => format!("{year}.{month:02}.{day:02}"),
        6 => format!("{name} {} {year}", ordinal(day)),
        7 => format!("{day} {name} {year}"),
        8 => format!("{name} {day}, {year}"),
        9 => format!("{day:02}-{month:02}-{yy:02}"),
        10 => format!("{} {day} {mon} {year}", &wd[..3]),
        11 => date.iso(),
        12 => format!("{day}/{month}/{yy:02}"),
        13 => format!("the {} of {name}, {year}", ordinal(day)),
        14 => format!("{year}{month:02}{day:02}"),
        _ => panic!("date format {format} out of range 0..{FORMATS}"),
    }
}

/// Generates the training and test pairs of `cfg`; the same config gives the same pairs.
pub fn generate_dates(cfg: &DatesConfig) -> DatesData {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let first = Date {
        year: YEARS.0,
        month: 1,
        day: 1,
    }
    .to_days();
    let last = Date {
        year: YEARS.1,
        month: 12,
        day: 31,
    }
    .to_days();
    let mut days: Vec<i64> = (first..=last).collect();
    days.shuffle(&mut rng);
    let (test_days, train_days) = days.split_at(days.len() / 10);
    let mut draw = |pool: &[i64], n: usize| -> Vec<(String, String)> {
        (0..n)
            .map(|_| {
                let date = Date::from_days(pool[rng.random_range(0..pool.len())]);
                let format = rng.random_range(0..FORMATS);
                (format_date(date, format), date.iso())
            })
            .collect()
    };
    let train = draw(train_days, cfg.train);
    let test = draw(test_days, cfg.test);
    DatesData { train, test }
}

/// A character vocabulary: ids `0..len()`, with padding at 0.
#[derive(Debug, Clone, PartialEq)]
pub struct CharVocab {
    chars: Vec<char>,
    specials: usize,
    unknown: Option<usize>,
}

impl CharVocab {
    /// Padding id (both vocabularies).
    pub const PAD: usize = 0;
    /// Unknown-character id of the source vocabulary.
    pub const UNK: usize = 1;
    /// Start id of the target vocabulary.
    pub const START: usize = 1;
    /// End id of the target vocabulary.
    pub const END: usize = 2;

    /// Source characters: `<pad>`, `<unk>`, space, punctuation, digits, `a`-`z`.
    pub fn source() -> Self {
        let chars = " ,./-'".chars().chain('0'..='9').chain('a'..='z').collect();
        Self {
            chars,
            specials: 2,
            unknown: Some(Self::UNK),
        }
    }

    /// Target characters: `<pad>`, `<start>`, `<end>`, digits and `-`.
    pub fn target() -> Self {
        let chars = ('0'..='9').chain(std::iter::once('-')).collect();
        Self {
            chars,
            specials: 3,
            unknown: None,
        }
    }

    /// Number of ids, special ones included.
    pub fn len(&self) -> usize {
        self.specials + self.chars.len()
    }

    /// Always false: the specials are there.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Ids of `text`, lower-cased; unknown characters become `<unk>` in the source
    /// vocabulary and are dropped in the target one.
    pub fn encode(&self, text: &str) -> Vec<usize> {
        text.chars()
            .flat_map(char::to_lowercase)
            .filter_map(|c| match self.chars.iter().position(|&k| k == c) {
                Some(i) => Some(i + self.specials),
                None => self.unknown,
            })
            .collect()
    }

    /// The character of a non-special id.
    pub fn char_of(&self, id: usize) -> Option<char> {
        id.checked_sub(self.specials)
            .and_then(|i| self.chars.get(i).copied())
    }

    /// A printable name of any id (`<pad>`, `<unk>`, `<start>`, `<end>` or the character).
    pub fn token_name(&self, id: usize) -> String {
        match (id, self.char_of(id)) {
            (_, Some(c)) => c.to_string(),
            (Self::PAD, None) => "<pad>".into(),
            (1, None) if self.unknown.is_some() => "<unk>".into(),
            (1, None) => "<start>".into(),
            (2, None) => "<end>".into(),
            _ => "?".into(),
        }
    }

    /// The text of `ids`, stopping at `<end>` (target vocabulary) and skipping other
    /// specials.
    pub fn decode(&self, ids: &[usize]) -> String {
        let end = if self.unknown.is_none() {
            Some(Self::END)
        } else {
            None
        };
        ids.iter()
            .take_while(|&&id| Some(id) != end)
            .filter_map(|&id| self.char_of(id))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// An independent reading of the human formats, used to check [`format_date`].
    fn parse_human(s: &str) -> Option<Date> {
        let words: Vec<&str> = s
            .split([' ', ','])
            .filter(|w| !w.is_empty() && *w != "of" && *w != "the")
            .collect();
        let month_of = |w: &str| {
            MONTHS
                .iter()
                .position(|m| *m == w || (w.len() == 3 && m.starts_with(w)))
                .map(|i| i as u32 + 1)
        };
        let year_of = |w: &str| -> Option<i32> {
            let y: i32 = w.parse().ok()?;
            match w.len() {
                4 => Some(y),
                2 if y >= 50 => Some(1900 + y),
                2 => Some(2000 + y),
                _ => None,
            }
        };
        let date = if words.len() == 1 {
            let w = words[0];
            let parts: Vec<&str> = w.split(['/', '-', '.']).collect();
            if parts.len() == 1 && w.len() == 8 {
                Date {
                    year: w[..4].parse().ok()?,
                    month: w[4..6].parse().ok()?,
                    day: w[6..].parse().ok()?,
                }
            } else if w.contains('.') || (w.contains('-') && parts[0].len() == 4) {
                Date {
                    year: year_of(parts[0])?,
                    month: parts[1].parse().ok()?,
                    day: parts[2].parse().ok()?,
                }
            } else {
                Date {
                    year: year_of(parts[2])?,
                    month: parts[1].parse().ok()?,
                    day: parts[0].parse().ok()?,
                }
            }
        } else {
            let mut weekday = None;
            let (mut month, mut day, mut year) = (None, None, None);
            for w in &words {
                if let Some(m) = month_of(w) {
                    month = Some(m);
                } else if let Some(d) = WEEKDAYS
                    .iter()
                    .position(|d| *d == *w || (w.len() == 3 && d.starts_with(w)))
                {
                    weekday = Some(d);
                } else if w.bytes().all(|b| b.is_ascii_digit())
                    && (w.len() == 4 || (day.is_some() && w.len() == 2))
                {
                    year = year_of(w);
                } else {
                    day = w.trim_end_matches(char::is_alphabetic).parse().ok();
                }
            }
            let date = Date {
                year: year?,
                month: month?,
                day: day?,
            };
            if weekday.is_some_and(|w| w != date.weekday()) {
                return None;
            }
            date
        };
        Some(date)
    }

    #[test]
    fn calendar_round_trip_and_weekdays() {
        let d = Date {
            year: 1998,
            month: 3,
            day: 3,
        };
        assert_eq!(Date::from_days(d.to_days()), d);
        assert_eq!(WEEKDAYS[d.weekday()], "tuesday");
        assert_eq!(Date::from_days(0).iso(), "1970-01-01");
        let leap = Date {
            year: 2000,
            month: 2,
            day: 29,
        };
        assert_eq!(Date::from_days(leap.to_days() + 1).iso(), "2000-03-01");
        assert_eq!(WEEKDAYS[leap.weekday()], "tuesday");
    }

    #[test]
    fn examples_from_the_brief() {
        let d = Date {
            year: 1998,
            month: 3,
            day: 3,
        };
        let all: Vec<String> = (0..FORMATS).map(|f| format_date(d, f)).collect();
        for s in [
            "3rd of march 1998",
            "mar 3, 98",
            "03/03/1998",
            "tuesday, march 3, 1998",
            "3 mar 1998",
            "1998.03.03",
            "march 3rd 1998",
        ] {
            assert!(all.iter().any(|a| a == s), "{s} not in {all:?}");
        }
    }

    #[test]
    fn every_format_parses_back() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..400 {
            let days = rng.random_range(-7305..29220);
            let date = Date::from_days(days);
            for f in 0..FORMATS {
                let s = format_date(date, f);
                assert_eq!(parse_human(&s), Some(date), "format {f}: {s}");
            }
        }
    }

    #[test]
    fn test_days_never_occur_in_training() {
        let cfg = DatesConfig {
            train: 5000,
            test: 500,
            seed: 11,
        };
        let data = generate_dates(&cfg);
        assert_eq!((data.train.len(), data.test.len()), (5000, 500));
        let train_days: HashSet<&str> = data.train.iter().map(|(_, iso)| iso.as_str()).collect();
        for (human, iso) in &data.test {
            assert!(!train_days.contains(iso.as_str()), "{human} -> {iso}");
        }
        for (human, iso) in data.train.iter().chain(&data.test) {
            let date = parse_human(human).unwrap();
            assert_eq!(&date.iso(), iso);
            assert!((YEARS.0..=YEARS.1).contains(&date.year));
        }
    }

    #[test]
    fn deterministic_per_seed() {
        let cfg = DatesConfig {
            train: 50,
            test: 10,
            seed: 5,
        };
        assert_eq!(generate_dates(&cfg), generate_dates(&cfg));
        let other = generate_dates(&DatesConfig { seed: 6, ..cfg });
        assert_ne!(generate_dates(&cfg).train, other.train);
    }

    #[test]
    fn vocabularies() {
        let src = CharVocab::source();
        let ids = src.encode("Tuesday, March 3rd!");
        assert!(ids.contains(&CharVocab::UNK));
        assert_eq!(src.decode(&ids), "tuesday, march 3rd");
        let tgt = CharVocab::target();
        assert_eq!(tgt.len(), 14);
        let mut ids = tgt.encode("1998-03-03");
        assert_eq!(ids.len(), 10);
        ids.push(CharVocab::END);
        ids.push(5);
        assert_eq!(tgt.decode(&ids), "1998-03-03");
        assert_eq!(tgt.token_name(CharVocab::END), "<end>");
        assert_eq!(src.token_name(CharVocab::UNK), "<unk>");
        // Every generated character is known.
        let data = generate_dates(&DatesConfig {
            train: 300,
            test: 0,
            seed: 1,
        });
        for (human, _) in &data.train {
            assert!(!src.encode(human).contains(&CharVocab::UNK), "{human}");
        }
    }
}
