//! Ids are UUIDv7 made in Rust (time-ordered, so text order is creation order) and
//! stored as their canonical lowercase text in both databases.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn parse(text: &str) -> Option<Self> {
                Uuid::parse_str(text).ok().map(Self)
            }

            pub fn as_text(&self) -> String {
                self.0.as_hyphenated().to_string()
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.as_hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.as_hyphenated())
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A person who logs in: a health professional or a CPTS staff member.
    AccountId
);
id_type!(SessionId);
id_type!(PatientId);
id_type!(MemberId);
id_type!(EntryId);
id_type!(AttachmentId);
id_type!(ConversationId);
id_type!(MessageId);
id_type!(NotificationId);
id_type!(GrantId);
id_type!(ObjectionId);
id_type!(
    /// A structure of the territory: officine, cabinet, MSP, EHPAD, hospital…
    OrganisationId
);
id_type!(InvitationId);
id_type!(MembershipId);
// Campaigns (issue 15)
id_type!(CampaignId);
id_type!(CampaignActionId);
// Waiting list (issue 14)
id_type!(
    /// A request on the waiting list of patients without a médecin traitant.
    RequestId
);
id_type!(
    /// A GP proposed for a waiting-list request.
    ProposalId
);
// Pathways, care plans and tasks (issue 12)
id_type!(
    /// A territorial pathway protocol (its versions share the id).
    PathwayId
);
id_type!(CarePlanId);
id_type!(TaskId);
id_type!(ReviewId);
// Case conferences (issue 13)
id_type!(CaseConferenceId);
id_type!(CaseId);
id_type!(
    /// A correction to a validated case-conference record.
    AddendumId
);
