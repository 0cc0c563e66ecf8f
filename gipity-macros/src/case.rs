//! `rename_all` rules, applied to parameter names exactly as serde applies them to field names,
//! so that the macro knows every JSON key before serde does (to reject collisions).

/// One of serde's `rename_all` rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RenameRule {
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

impl RenameRule {
    /// Every rule, by the name serde knows it by.
    pub(crate) const ALL: [(&'static str, Self); 8] = [
        ("lowercase", Self::Lower),
        ("UPPERCASE", Self::Upper),
        ("PascalCase", Self::Pascal),
        ("camelCase", Self::Camel),
        ("snake_case", Self::Snake),
        ("SCREAMING_SNAKE_CASE", Self::ScreamingSnake),
        ("kebab-case", Self::Kebab),
        ("SCREAMING-KEBAB-CASE", Self::ScreamingKebab),
    ];

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(known, _)| *known == name)
            .map(|&(_, rule)| rule)
    }

    /// The JSON key of a field named `field` (a Rust `snake_case` name), as serde computes it.
    pub(crate) fn apply_to_field(self, field: &str) -> String {
        match self {
            Self::Lower | Self::Snake => field.to_owned(),
            Self::Upper | Self::ScreamingSnake => field.to_ascii_uppercase(),
            Self::Pascal => {
                let mut pascal = String::new();
                let mut capitalize = true;
                for ch in field.chars() {
                    if ch == '_' {
                        capitalize = true;
                    } else if capitalize {
                        pascal.push(ch.to_ascii_uppercase());
                        capitalize = false;
                    } else {
                        pascal.push(ch);
                    }
                }
                pascal
            }
            Self::Camel => {
                let pascal = Self::Pascal.apply_to_field(field);
                let mut chars = pascal.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => pascal,
                }
            }
            Self::Kebab => field.replace('_', "-"),
            Self::ScreamingKebab => Self::ScreamingSnake.apply_to_field(field).replace('_', "-"),
        }
    }
}

/// `get_items` -> `GetItems`: the Rust type name derived from a function name.
pub(crate) fn pascal_case(snake: &str) -> String {
    snake
        .split('_')
        .flat_map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .into_iter()
                .flat_map(char::to_uppercase)
                .chain(chars)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_serde() {
        let cases = [
            ("lowercase", "high_score", "high_score"),
            ("UPPERCASE", "high_score", "HIGH_SCORE"),
            ("PascalCase", "high_score", "HighScore"),
            ("camelCase", "high_score", "highScore"),
            ("camelCase", "level", "level"),
            ("camelCase", "a_b_c", "aBC"),
            ("snake_case", "high_score", "high_score"),
            ("SCREAMING_SNAKE_CASE", "high_score", "HIGH_SCORE"),
            ("kebab-case", "high_score", "high-score"),
            ("SCREAMING-KEBAB-CASE", "high_score", "HIGH-SCORE"),
        ];
        for (rule, field, key) in cases {
            let rule = RenameRule::from_name(rule);
            assert_eq!(rule.map(|r| r.apply_to_field(field)).as_deref(), Some(key));
        }
    }

    #[test]
    fn unknown_rule() {
        assert_eq!(RenameRule::from_name("camelcase"), None);
    }

    #[test]
    fn type_names() {
        assert_eq!(pascal_case("get_items"), "GetItems");
        assert_eq!(pascal_case("checkout"), "Checkout");
        assert_eq!(pascal_case("_private__name"), "PrivateName");
        assert_eq!(pascal_case("v2_items"), "V2Items");
    }
}
