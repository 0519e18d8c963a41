//! The profession × category matrix: the categories of the coordination file, the
//! access levels, and the default matrix of DESIGN.md that the first migration seeds.
//! The decisions built on it are in `access.rs`.

use crate::account::ProfessionGroup;

text_enum! {
    /// The categories of the coordination file (rows of the matrix).
    pub enum Category {
        /// Summary, PPS.
        Synthese = "synthese",
        /// Observations, diagnoses, letters.
        Medical = "medical",
        /// Nursing and rehabilitation notes, wound photos, vitals.
        Soins = "soins",
        /// Prescriptions, dispensations.
        Traitements = "traitements",
        /// Biology, imaging.
        Resultats = "resultats",
        /// Social situation, aids.
        Social = "social",
        /// Contacts, appointments, logistics.
        Administratif = "administratif",
        /// Case-conference conclusions (written only by the case-conference workflow).
        Rcp = "rcp",
    }
}

impl Category {
    /// Categories no one writes through the file API.
    pub fn written_by_workflow_only(self) -> bool {
        self == Category::Rcp
    }

    /// The categories of clinical care that non-health staff never get, whatever an
    /// admin writes in the matrix (DESIGN.md: staff never get health professionals'
    /// rights).
    pub fn clinical(self) -> bool {
        !matches!(
            self,
            Category::Synthese | Category::Social | Category::Administratif
        )
    }
}

text_enum! {
    /// A cell of the matrix; ordered: none < read < write.
    pub enum Access {
        None = "none",
        Read = "read",
        Write = "write",
    }
}

impl Access {
    pub fn can_read(self) -> bool {
        self >= Access::Read
    }

    pub fn can_write(self) -> bool {
        self == Access::Write
    }
}

/// The default matrix of DESIGN.md, as the first migration seeds it; used by the
/// conformance tests to check the seed.
pub fn default_access(group: ProfessionGroup, category: Category) -> Access {
    use Access::{None as N, Read as R, Write as W};
    use ProfessionGroup as G;
    let column = match group {
        G::Medecin => 0,
        G::SageFemme => 1,
        G::Dentiste => 2,
        G::Pharmacien => 3,
        G::Infirmier => 4,
        G::Kinesitherapeute => 5,
        G::Auxiliaire => 6,
        G::Psychologue => 7,
        G::Staff => 8,
    };
    let row: [Access; 9] = match category {
        Category::Synthese => [W, W, W, W, W, W, W, W, W],
        Category::Medical => [W, W, W, R, R, R, N, N, N],
        Category::Soins => [W, W, R, R, W, W, W, N, N],
        Category::Traitements => [W, W, W, W, R, R, N, N, N],
        Category::Resultats => [W, W, W, R, R, R, N, N, N],
        Category::Social => [W, W, R, R, W, R, R, W, W],
        Category::Administratif => [W, W, W, W, W, W, W, W, W],
        Category::Rcp => [R, R, R, R, R, R, R, N, N],
    };
    row.get(column).copied().unwrap_or(N)
}
