//! The function registry: one [`FunctionDef`] per function, with its signature, docs and
//! an example query. Each family lives in its own file (`functions/*.rs`) with its tests;
//! [`REGISTRY`] lists the families and [`lookup`] finds a function by any of its names,
//! case-insensitively.

mod aggregate;
mod datetime;
mod general;
mod hashing;
mod ip;
mod json;
mod numeric;
mod string;

/// Where a function may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FunctionKind {
    /// Anywhere an expression is allowed.
    Scalar,
    /// Only inside `stats` items (and not inside another aggregate).
    Aggregate,
    /// `bin(period)`: only as a `stats … by` key.
    Bin,
}

/// How many arguments a function takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Arity {
    /// At least this many.
    pub min: usize,
    /// At most this many; `None` for variadic functions.
    pub max: Option<usize>,
}

impl Arity {
    /// Exactly `n` arguments.
    pub const fn exactly(n: usize) -> Self {
        Self {
            min: n,
            max: Some(n),
        }
    }

    /// `min..=max` arguments.
    pub const fn between(min: usize, max: usize) -> Self {
        Self {
            min,
            max: Some(max),
        }
    }

    /// `min` or more arguments.
    pub const fn at_least(min: usize) -> Self {
        Self { min, max: None }
    }

    /// Whether `n` arguments are accepted.
    pub fn accepts(self, n: usize) -> bool {
        n >= self.min && self.max.is_none_or(|max| n <= max)
    }

    /// "2", "1 to 3", "at least 1".
    pub fn describe(self) -> String {
        match self.max {
            Some(max) if max == self.min => max.to_string(),
            Some(max) => format!("{} to {max}", self.min),
            None => format!("at least {}", self.min),
        }
    }
}

/// One function of the language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionDef {
    /// The canonical (documented) name, as printed.
    pub name: &'static str,
    /// Other accepted names (`count_distinct`, `strftime`).
    pub aliases: &'static [&'static str],
    /// Where it may be used.
    pub kind: FunctionKind,
    /// How many arguments it takes.
    pub arity: Arity,
    /// The documented signature.
    pub signature: &'static str,
    /// What it computes.
    pub doc: &'static str,
    /// A query that uses it and compiles.
    pub example: &'static str,
}

impl FunctionDef {
    /// Whether `name` (any case) names this function.
    pub fn is_named(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    }
}

/// Every family of functions.
pub const REGISTRY: &[&[FunctionDef]] = &[
    aggregate::FUNCTIONS,
    datetime::FUNCTIONS,
    general::FUNCTIONS,
    hashing::FUNCTIONS,
    ip::FUNCTIONS,
    json::FUNCTIONS,
    numeric::FUNCTIONS,
    string::FUNCTIONS,
];

/// Every function.
pub fn all() -> impl Iterator<Item = &'static FunctionDef> {
    REGISTRY.iter().flat_map(|family| family.iter())
}

/// The function called `name` (canonical name or alias, any case).
pub fn lookup(name: &str) -> Option<&'static FunctionDef> {
    all().find(|def| def.is_named(name))
}

/// Shorthand for the family tables.
const fn def(
    name: &'static str,
    kind: FunctionKind,
    arity: Arity,
    signature: &'static str,
    doc: &'static str,
    example: &'static str,
) -> FunctionDef {
    FunctionDef {
        name,
        aliases: &[],
        kind,
        arity,
        signature,
        doc,
        example,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_across_families() {
        let mut names: Vec<String> = all()
            .flat_map(|d| std::iter::once(d.name).chain(d.aliases.iter().copied()))
            .map(str::to_ascii_lowercase)
            .collect();
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count, "a function name appears twice");
    }

    #[test]
    fn every_example_compiles_and_uses_its_function() {
        for def in all() {
            let query = crate::compile(def.example)
                .unwrap_or_else(|e| panic!("example of {}: {e}", def.name));
            let text = query.to_string();
            assert!(
                text.contains(&format!("{}(", def.name)),
                "{} not in {text}",
                def.name
            );
        }
    }

    #[test]
    fn lookup_is_case_insensitive_and_knows_aliases() {
        assert_eq!(lookup("SUM").map(|d| d.name), Some("sum"));
        assert_eq!(
            lookup("count_distinct").map(|d| d.name),
            Some("countDistinct")
        );
        assert_eq!(lookup("strftime").map(|d| d.name), Some("formatDate"));
        assert_eq!(
            lookup("isipv4insubnet").map(|d| d.name),
            Some("isIpv4InSubnet")
        );
        assert!(lookup("nosuch").is_none());
    }

    #[test]
    fn arity_descriptions() {
        assert_eq!(Arity::exactly(2).describe(), "2");
        assert_eq!(Arity::between(1, 3).describe(), "1 to 3");
        assert_eq!(Arity::at_least(1).describe(), "at least 1");
        assert!(Arity::at_least(1).accepts(40));
        assert!(!Arity::between(1, 2).accepts(3));
    }
}
