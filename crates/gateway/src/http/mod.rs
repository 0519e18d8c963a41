//! HTTP routes. Each module exports `router()`; handlers are thin: extract, call the
//! domain, map the error.

pub mod aci;
pub mod aci_render;
pub mod admin;
pub mod attachments;
pub mod auth;
pub mod care_team;
pub mod cpts;
pub mod directory;
pub mod entries;
pub mod health;
pub mod me;
pub mod messages;
pub mod notifications;
pub mod organisations;
pub mod page;
pub mod patients;
pub mod rights;
pub mod schemas;
pub mod wire;
// Campaigns (issue 15)
pub mod campaign_report;
pub mod campaigns;
// Waiting list (issue 14)
pub mod gp_capacity;
pub mod waiting_list;
// Pathways, care plans and tasks (issue 12)
pub mod care_plans;
pub mod pathways;
pub mod plans_wire;
pub mod tasks;
// Case conferences (issue 13)
pub mod case_conference_record;
pub mod case_conference_render;
pub mod case_conferences;
