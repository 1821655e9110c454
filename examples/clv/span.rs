//! Lengths of time on the command line (`--horizon`, `--step`): a number in the model's time
//! unit, or a number with a unit (`364d`, `52w`, `1y`), converted to the model's unit and said
//! so. There is no month: months differ in length, so they are given in days or weeks.

use clv::TimeUnit;
use std::str::FromStr;

/// A parsed length: the number and, when one was written, the length of its unit in days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    value: f64,
    unit_days: Option<(f64, &'static str)>,
}

impl FromStr for Span {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let (num, unit_days) = match t.char_indices().last() {
            Some((i, 'd')) => (&t[..i], Some((1.0, "days"))),
            Some((i, 'w')) => (&t[..i], Some((7.0, "weeks"))),
            Some((i, 'y')) => (&t[..i], Some((365.25, "years"))),
            Some((_, c)) if c.is_ascii_alphabetic() => {
                return Err(format!(
                    "'{t}': the unit must be d, w or y (a year is 365.25 days; months differ in \
                     length, so give them in days or weeks), or none for the model's unit"
                ));
            }
            _ => (t, None),
        };
        let value: f64 = num
            .trim()
            .parse()
            .map_err(|_| format!("'{t}' is not a number (with an optional d, w or y)"))?;
        // the domain (finite, > 0) is checked where the value is used, by the library
        Ok(Span { value, unit_days })
    }
}

impl Span {
    /// The length in `unit`, with a note saying how it was converted when a unit was written
    /// (`None` for a plain number).
    pub fn in_unit(&self, unit: TimeUnit) -> (f64, Option<String>) {
        match self.unit_days {
            None => (self.value, None),
            Some((days, name)) => {
                let v = self.value * days / unit.days();
                (v, Some(format!("{} {name} = {v} {unit}", self.value)))
            }
        }
    }
}
