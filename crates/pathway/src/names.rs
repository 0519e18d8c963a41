//! Closed lists of words that are stored and sent as text (categories, roles,
//! statuses…): one declaration gives the enum, its text, `parse`, the list of all
//! values and serde, so that the words are written once.

/// Declares an enum whose variants are written as fixed words:
///
/// ```
/// cordee_pathway::text_enum! {
///     /// What a task is about.
///     pub enum Colour { Red = "red", Dark = "dark_blue" }
/// }
/// assert_eq!(Colour::parse("dark_blue"), Some(Colour::Dark));
/// assert_eq!(Colour::Red.as_str(), "red");
/// assert_eq!(Colour::NAMES, &["red", "dark_blue"]);
/// ```
#[macro_export]
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every value's word, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<$name, D::Error> {
                let text = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                $name::parse(&text).ok_or_else(|| {
                    <D::Error as ::serde::de::Error>::unknown_variant(&text, $name::NAMES)
                })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    text_enum! {
        enum Sample { One = "one", TwoWords = "two_words" }
    }

    #[test]
    fn words_round_trip() {
        for (value, word) in Sample::ALL.iter().zip(Sample::NAMES) {
            assert_eq!(value.as_str(), *word);
            assert_eq!(Sample::parse(word), Some(*value));
            let json = serde_json::to_string(value).unwrap();
            assert_eq!(json, format!("\"{word}\""));
            assert_eq!(serde_json::from_str::<Sample>(&json).unwrap(), *value);
        }
        assert_eq!(Sample::parse("three"), None);
        let err = serde_json::from_str::<Sample>("\"three\"").unwrap_err();
        assert!(err.to_string().contains("two_words"), "{err}");
    }
}
