//! JSON and structure functions.

use super::{Arity, FunctionDef, FunctionKind::Scalar, def};

/// The JSON family.
pub const FUNCTIONS: &[FunctionDef] = &[
    def(
        "jsonParse",
        Scalar,
        Arity::exactly(1),
        "jsonParse(str)",
        "a map or list (empty if not a JSON object or array)",
        "fields jsonParse(@message) as j",
    ),
    def(
        "jsonStringify",
        Scalar,
        Arity::exactly(1),
        "jsonStringify(map|list)",
        "a map or list as JSON text",
        "fields jsonStringify(jsonParse(@message))",
    ),
    def(
        "jsonArraySize",
        Scalar,
        Arity::exactly(1),
        "jsonArraySize(f)",
        "the length of a list",
        "fields jsonArraySize(j.items)",
    ),
    def(
        "jsonArrayContains",
        Scalar,
        Arity::exactly(2),
        "jsonArrayContains(f, value)",
        "1 if the list contains value (case-sensitive), else 0",
        "filter jsonArrayContains(j.tags, \"x\")",
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn json_paths_with_indexes_parse() {
        let q =
            crate::compile("fields jsonParse(@message) as m | display m.list[1].x, m.`user.id`")
                .expect("compiles");
        assert_eq!(
            q.to_string(),
            "fields jsonParse(@message) as m | display m.list[1].x, m.`user.id`"
        );
    }
}
